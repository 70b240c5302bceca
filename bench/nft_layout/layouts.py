"""nft scripts for one ArcBox network in four layouts, N sandboxes each, and the three per-sandbox transactions.

A  today's: per-sandbox chains behind `iifname vmap` dispatch maps (shape of tests/testdata/golden/*.dual.nft).
B  shared interval maps, one base-chain rule per rule kind; an element's data is the packet mark (the rule id),
   its counter is the rule's counter; a flow log reads the mark from NFLOG.
C  shared verdict maps whose elements accept; sandbox-to-sandbox traffic goes through plain sets first.
Cg C with `goto` verdicts in the elements instead of `accept`: the same policy, verdicts that set validate.
D  B's rule ids and counters in hash maps without intervals (tuple space search): one map and one base-chain rule
   per rule kind and mask tuple (port prefix length, address prefix length); a port range becomes aligned
   blocks, a CIDR its masked address. Lookups and updates are hash operations whatever N.

Everything here is text; nothing talks to the kernel.
"""
import ipaddress

TABLE = "arcbox-ab"
GROUP = 21232
NET4 = ipaddress.ip_network("10.0.0.0/16")
NET6 = ipaddress.ip_network("fd00:ab::/64")
NONPUBLIC4 = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
              "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4"]
NONPUBLIC6 = ["::/128", "::1/128", "::ffff:0:0/96", "fc00::/7", "fe80::/10", "ff00::/8"]
LAYOUTS = ["A", "B", "C", "Cg", "D"]


class Sandbox:
    def __init__(self, index, name=None, host=None):
        self.name = name or f"s{index:05d}"
        self.ifname = f"ab-{self.name}"
        host = host if host is not None else index + 2
        self.ip4 = NET4.network_address + host
        self.ip6 = NET6.network_address + host
        self.mac = "02:00:" + ":".join(f"{b:02x}" for b in self.ip4.packed)
        # Rule ids in B: bit 31 marks "log: all", then 20 bits of sandbox, 8 bits of rule slot.
        self.sid = (index + 1) & 0xFFFFF


# The sandbox every transaction adds, replaces and removes: the same name and address at every N, so that one
# captured batch replays against every table.
NEW = Sandbox(0xFFFFE, name="new", host=0xFFFA)


def policy(target, variant=1):
    """A typical policy: (direction, slot, protocol, ports, targets). Ports are ints or (low, high)."""
    if variant == 1:
        out = [("tcp", [80, 443, (8000, 8100)], ["internet"]),
               ("udp", [53], ["host"]),
               ("any", [(5000, 5100), 5201], ["192.168.1.0/24", "2001:db8:1::/48"]),
               ("tcp", [5432], [f"sandbox:{target}"])]
        inb = [("tcp", [8080], ["network"]),
               ("udp", [], ["192.168.1.0/24", "2001:db8:1::/48"])]
    else:  # the swap: every rule but outbound[1] changes, outbound[0] keeps two of its three ports
        out = [("tcp", [80, 443, (9000, 9100)], ["internet"]),
               ("udp", [53], ["host"]),
               ("any", [(6000, 6100), 5202], ["192.168.2.0/24", "2001:db8:2::/48"]),
               ("tcp", [5433], [f"sandbox:{target}"])]
        inb = [("tcp", [8081], ["network"]),
               ("udp", [], ["192.168.2.0/24", "2001:db8:2::/48"])]
    return [("out", i, *r) for i, r in enumerate(out)] + [("in", i, *r) for i, r in enumerate(inb)]


def target_of(i, n):
    return f"s{(i + 1) % n:05d}"


def protos(proto):
    return ["tcp", "udp"] if proto == "any" else [proto]


def port_text(p):
    return f"{p[0]}-{p[1]}" if isinstance(p, tuple) else str(p)


def family(cidr):
    return 6 if ":" in cidr else 4


# ---------------------------------------------------------------- common base (same in every layout)

def guard_elements(sbs):
    q = lambda s: f'"{s.ifname}"'
    return {
        "interfaces": [q(s) for s in sbs],
        "source4": [f"{q(s)} . {s.mac} . {s.ip4}" for s in sbs],
        "mac": [f"{q(s)} . {s.mac}" for s in sbs],
        "addr6": [f"{q(s)} . {s.ip6}" for s in sbs],
        "nd_target6": [f"{q(s)} . 0x{int(s.ip6):032x}" for s in sbs],
    }


def arp_elements(sbs):
    return [f'"{s.ifname}" . {s.ip4} . {s.mac}' for s in sbs]


def elements(values):
    return f"\n\t\telements = {{ {', '.join(values)} }}" if values else ""


def guard_tx(verb, sb):
    lines = [f"{verb} element inet {TABLE} {name} {{ {vals[0]} }}" for name, vals in guard_elements([sb]).items()]
    lines.append(f"{verb} element arp {TABLE} arp_ok {{ {arp_elements([sb])[0]} }}")
    return lines


def base(sbs, decls, from_sandbox, deliver, to_host, from_host, chains):
    g = guard_elements(sbs)
    return f"""table inet {TABLE}
delete table inet {TABLE}
table arp {TABLE}
delete table arp {TABLE}
table inet {TABLE} {{
	counter spoofed {{ }}
	counter unknown_interface {{ }}
	counter invalid {{ }}
	counter foreign_related {{ }}
	counter route_options {{ }}
	counter icmp_hidden {{ }}
	set l4_tcpudp {{ type inet_proto; elements = {{ tcp, udp }}; }}
	set l4_icmp {{ type inet_proto; elements = {{ icmp, ipv6-icmp }}; }}
	set net4 {{ type ipv4_addr; flags interval; elements = {{ {NET4} }}; }}
	set nonpublic4 {{ type ipv4_addr; flags interval; elements = {{ {", ".join(NONPUBLIC4)} }}; }}
	set net6 {{ type ipv6_addr; flags interval; elements = {{ {NET6} }}; }}
	set nonpublic6 {{ type ipv6_addr; flags interval; elements = {{ {", ".join(NONPUBLIC6)} }}; }}
	set interfaces {{ type ifname;{elements(g["interfaces"])}
	}}
	set source4 {{ type ifname . ether_addr . ipv4_addr;{elements(g["source4"])}
	}}
	set mac {{ type ifname . ether_addr;{elements(g["mac"])}
	}}
	set addr6 {{ type ifname . ipv6_addr;{elements(g["addr6"])}
	}}
	set nd_target6 {{ typeof iifname . @th,64,128;{elements(g["nd_target6"])}
	}}
	set dhcp_clients {{ type ifname . ether_addr; }}
	set dhcp_links {{ type ifname; }}
	set dhcp_rate {{ type ifname; flags dynamic,timeout; timeout 1m; size 65535; }}
	set forward_allowed4 {{ type ipv4_addr . inet_proto . inet_service; }}
	set forward_allowed6 {{ type ipv6_addr . inet_proto . inet_service; }}
	map forward4 {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }}
	map forward_any4 {{ type inet_proto . inet_service : ipv4_addr . inet_service; }}
	map forward6 {{ type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }}
	map forward_any6 {{ type inet_proto . inet_service : ipv6_addr . inet_service; }}
{decls}
	chain prerouting_raw {{
		type filter hook prerouting priority raw; policy accept;
		iifname "ab-*" jump sandbox_guard
	}}
	chain sandbox_guard {{
		ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 iifname . ether saddr @dhcp_clients accept
		meta nfproto ipv4 iifname . ether saddr . ip saddr != @source4 counter name "spoofed" drop
		ip daddr 127.0.0.0/8 counter name "spoofed" drop
		ip hdrlength != 5 jump guard_options
		meta nfproto ipv4 meta l4proto tcp accept
		udp sport 67 counter name "spoofed" drop
		icmp type redirect counter name "spoofed" drop
		meta nfproto ipv6 iifname . ether saddr != @mac counter name "spoofed" drop
		icmpv6 type {{ nd-router-advert, nd-redirect }} counter name "spoofed" drop
		udp sport 547 counter name "spoofed" drop
		icmpv6 type nd-neighbor-advert @th,64,16 & 0xffc0 != 0xfe80 iifname . @th,64,128 != @nd_target6 counter name "spoofed" drop
		ip6 saddr :: icmpv6 type {{ nd-neighbor-solicit, mld2-listener-report }} accept
		ip6 saddr fe80::/10 icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report }} accept
		meta nfproto ipv6 iifname . ip6 saddr != @addr6 counter name "spoofed" drop
		exthdr rt exists counter name "route_options" drop
	}}
	chain guard_options {{
		ip option lsrr exists counter name "route_options" drop
		ip option ssrr exists counter name "route_options" drop
		ip option rr exists counter name "route_options" drop
	}}
	chain prerouting_nat {{
		type nat hook prerouting priority dstnat; policy accept;
		iifname "ab-*" meta nfproto ipv4 meta l4proto @l4_tcpudp th dport 53 dnat ip to 10.0.0.1
		iifname "ab-*" meta nfproto ipv6 meta l4proto @l4_tcpudp th dport 53 dnat ip6 to fd00:ab::1
		meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @forward4
		fib daddr type local meta nfproto ipv4 dnat ip to meta l4proto . th dport map @forward_any4
		meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th dport map @forward6
		fib daddr type local meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @forward_any6
	}}
	chain postrouting_nat {{
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr @net4 oifname != "ab-*" masquerade
		ct status dnat ip saddr 127.0.0.0/8 oifname "ab-*" masquerade
		ip6 saddr @net6 oifname != "ab-*" masquerade
	}}
	chain forward_filter {{
		type filter hook forward priority filter; policy accept;
		iifname "ab-*" jump from_sandbox
		oifname "ab-*" jump to_sandbox
	}}
	chain from_sandbox {{
		ct state established accept
		ct state related ct direction original iifname . ether saddr . ct original ip saddr @source4 accept
		ct state related ct direction original iifname . ct original ip6 saddr @addr6 accept
		ct state related ct direction reply iifname . ether saddr . ct reply ip saddr @source4 accept
		ct state related ct direction reply iifname . ct reply ip6 saddr @addr6 accept
		ct state related counter name "foreign_related" drop
		ct state invalid counter name "invalid" drop
{from_sandbox}
	}}
	chain to_sandbox {{
		ct state established,related accept
		ct state invalid counter name "invalid" drop
		goto deliver
	}}
	chain deliver {{
		ct status dnat ip daddr . meta l4proto . th dport @forward_allowed4 accept
		meta mark 0x41425846 ip daddr . meta l4proto . th dport @forward_allowed4 accept
		ct status dnat ip6 daddr . meta l4proto . th dport @forward_allowed6 accept
{deliver}
	}}
	chain input_filter {{
		type filter hook input priority filter; policy accept;
		iifname "ab-*" jump to_host
	}}
	chain to_host {{
		ct state established accept
		ct state related ct direction original iifname . ether saddr . ct original ip saddr @source4 accept
		ct state related ct direction original iifname . ct original ip6 saddr @addr6 accept
		ct state related ct direction reply iifname . ether saddr . ct reply ip saddr @source4 accept
		ct state related ct direction reply iifname . ct reply ip6 saddr @addr6 accept
		ct state related counter name "foreign_related" drop
		ct state invalid counter name "invalid" drop
		icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report }} accept
		udp sport 68 udp dport 67 iifname . ether saddr @dhcp_clients update @dhcp_rate {{ iifname limit rate 20/second burst 40 packets }} accept
{to_host}
	}}
	chain output_filter {{
		type filter hook output priority filter; policy accept;
		oifname "ab-*" jump from_host
	}}
	chain from_host {{
		icmp type redirect counter name "icmp_hidden" drop
		icmp type {{ destination-unreachable, time-exceeded, parameter-problem }} ct status & confirmed == 0 counter name "icmp_hidden" drop
		icmpv6 type nd-redirect counter name "icmp_hidden" drop
		icmpv6 type {{ destination-unreachable, packet-too-big, time-exceeded, parameter-problem }} ct status & confirmed == 0 counter name "icmp_hidden" drop
		ct state established,related accept
		udp sport 67 udp dport 68 oifname @dhcp_links accept
		icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} accept
		ct status dnat ip daddr . meta l4proto . th dport @forward_allowed4 accept
		meta mark 0x41425846 ip daddr . meta l4proto . th dport @forward_allowed4 accept
		ct status dnat ip6 daddr . meta l4proto . th dport @forward_allowed6 accept
{from_host}
	}}
{chains}
}}
table arp {TABLE} {{
	set arp_ok {{ type ifname . ipv4_addr . ether_addr;{elements(arp_elements(sbs))}
	}}
	chain arp_input {{
		type filter hook input priority filter; policy accept;
		iifname "ab-*" iifname . arp saddr ip . arp saddr ether != @arp_ok counter drop
	}}
}}
"""


def indent(lines):
    return "\n".join("\t\t" + line for line in lines)


# ---------------------------------------------------------------- A: today's per-sandbox chains

class LayoutA:
    name = "A"

    def chains(self, sb, pol):
        """The rules of sb_NAME_out, _in and _host, as the compiler writes them."""
        out, inb, host = [], [], []
        for direction, slot, proto, ports, targets in pol:
            rid = f"{'outbound' if direction == 'out' else 'inbound'}[{slot}]"
            verdict = "return" if direction == "out" else "accept"
            addr = "daddr" if direction == "out" else "saddr"
            l4 = {"tcp": "tcp dport", "udp": "udp dport", "any": "meta l4proto @l4_tcpudp th dport"}[proto]
            port_matches = [f"{l4} {port_text(p)}" for p in ports] or \
                ([] if proto == "any" else [f"meta l4proto {proto}"]) or [""]
            for t in targets:
                if t == "host":
                    host += [f'{m} counter accept comment "{rid}"' for m in port_matches]
                    continue
                if t.startswith("sandbox:"):
                    dev = "oifname" if direction == "out" else "iifname"
                    matches = [f'{dev} "ab-{t[8:]}"']
                elif t == "internet":
                    matches = [f"ip {addr} != @nonpublic4", f"ip6 {addr} != @nonpublic6"]
                elif t == "network":
                    matches = [f"ip {addr} @net4", f"ip6 {addr} @net6"]
                else:
                    matches = [f"ip{'6' if family(t) == 6 else ''} {addr} {t}"]
                rules = [f'{m} {a} counter {verdict} comment "{rid}"'.replace("  ", " ").strip()
                         for a in matches for m in port_matches]
                (out if direction == "out" else inb).extend(rules)
        for lst, d in ((out, "out"), (inb, "in"), (host, "out")):
            lst.append(f'counter limit rate 20/second burst 40 packets log prefix "{sb.ifname} {d} default " '
                       f'group {GROUP} drop comment "default"')
            lst.append('drop comment "default"')
        return {f"sb_{sb.name}_out": out, f"sb_{sb.name}_in": inb, f"sb_{sb.name}_host": host}

    def dispatch(self, sb):
        return {"out_dispatch": f'"{sb.ifname}" : jump sb_{sb.name}_out',
                "in_dispatch": f'"{sb.ifname}" : goto sb_{sb.name}_in',
                "host_dispatch": f'"{sb.ifname}" : goto sb_{sb.name}_host'}

    def load(self, sbs, pols):
        decls = indent(f"map {m} {{ type ifname : verdict; }}"
                       for m in ("out_dispatch", "in_dispatch", "host_dispatch", "hostin_dispatch"))
        chains = []
        for sb, pol in zip(sbs, pols):
            for name, rules in self.chains(sb, pol).items():
                chains.append(f"\tchain {name} {{\n{indent(rules)}\n\t}}")
        text = base(sbs, decls,
                    indent(['iifname vmap @out_dispatch',
                            'iifname != @interfaces counter name "unknown_interface" drop', 'goto deliver']),
                    indent(['oifname vmap @in_dispatch',
                            'oifname "ab-*" counter name "unknown_interface" drop', 'accept']),
                    indent(['iifname vmap @host_dispatch', 'counter name "unknown_interface" drop']),
                    indent(['oifname vmap @hostin_dispatch', 'drop']),
                    "\n".join(chains))
        for m in ("out_dispatch", "in_dispatch", "host_dispatch"):
            text += f"add element inet {TABLE} {m} {{ {', '.join(self.dispatch(sb)[m] for sb in sbs)} }}\n"
        return text

    def add(self, sb, pol):
        lines = []
        for name, rules in self.chains(sb, pol).items():
            lines.append(f"add chain inet {TABLE} {name}")
            lines += [f"add rule inet {TABLE} {name} {r}" for r in rules]
        lines += [f"add element inet {TABLE} {m} {{ {e} }}" for m, e in self.dispatch(sb).items()]
        return "\n".join(guard_tx("add", sb) + lines) + "\n"

    def replace(self, sb, old, new):
        lines = []
        for name, rules in self.chains(sb, new).items():
            lines.append(f"flush chain inet {TABLE} {name}")
            lines += [f"add rule inet {TABLE} {name} {r}" for r in rules]
        return "\n".join(lines) + "\n"

    def remove(self, sb, pol):
        lines = [f'delete element inet {TABLE} {m} {{ "{sb.ifname}" }}' for m in self.dispatch(sb)]
        for name in self.chains(sb, pol):
            lines += [f"flush chain inet {TABLE} {name}", f"delete chain inet {TABLE} {name}"]
        return "\n".join(lines + guard_tx("delete", sb)) + "\n"


# ---------------------------------------------------------------- B, C, Cg: shared sets and maps

class SharedLayout:
    """A sandbox's policy is elements only: (set name, key, data). The base chains never change."""

    def __init__(self, name):
        self.name = name

    def data(self, sb, direction, slot, kind):
        if self.name == "B":
            return f"0x{(sb.sid << 8) | (slot if direction == 'out' else 0x80 | slot):08x}"
        if self.name == "C":
            return "accept"
        return {"out": "goto deliver", "in": "goto in_allowed", "host": "goto host_allowed"}[kind]

    def maps(self):
        """Set or map name -> key type. Every one has an element counter and, where a field can be a range,
        the interval flag."""
        ifp = "ifname . inet_proto . inet_service"
        return {"out_inet": ifp, "out4": f"{ifp} . ipv4_addr", "out6": f"{ifp} . ipv6_addr",
                "out_sbx": f"{ifp} . ifname", "in_inet": ifp, "in4": f"{ifp} . ipv4_addr",
                "in6": f"{ifp} . ipv6_addr", "in_sbx": f"{ifp} . ifname", "host_allow": ifp, "hostin_allow": ifp}

    def is_set(self, m):
        # In C the sandbox-side checks of outbound traffic are plain sets: an `accept` there would skip the
        # receiver's inbound rules, which `deliver` applies.
        return self.name in ("C", "Cg") and m in ("out_sbx", "out4_local", "out6_local")

    def elements(self, sb, pol):
        els = []
        for direction, slot, proto, ports, targets in pol:
            for t in targets:
                kind = "host" if t == "host" else direction
                if t == "host":
                    m, tail = "host_allow", ""
                elif t.startswith("sandbox:"):
                    m, tail = f"{direction}_sbx", f' . "ab-{t[8:]}"'
                elif t == "internet":
                    m, tail = f"{direction}_inet", ""
                elif t == "network":
                    for fam, net in ((4, NET4), (6, NET6)):
                        els += self._ports(sb, direction, slot, kind, proto, ports, f"{direction}{fam}", f" . {net}")
                    continue
                else:
                    m, tail = f"{direction}{family(t)}", f" . {t}"
                els += self._ports(sb, direction, slot, kind, proto, ports, m, tail)
        q = f'"{sb.ifname}"'
        els += [("dflt_out", q, None), ("dflt_in", q, None), ("dflt_host", q, None), ("log_deny", q, None)]
        return els

    def _ports(self, sb, direction, slot, kind, proto, ports, m, tail):
        data = None if self.is_set(m) else self.data(sb, direction, slot, kind)
        return [(m, f'"{sb.ifname}" . {p} . {port_text(port)}{tail}', data)
                for p in protos(proto) for port in (ports or [(0, 65535)])]

    def decls(self):
        lines = []
        dtype = {"B": "mark", "C": "verdict", "Cg": "verdict", "D": "mark"}[self.name]
        flags = "" if self.name == "D" else " flags interval;"
        for m, key in self.maps().items():
            if self.is_set(m):
                lines.append(f"set {m} {{ type {key};{flags} counter; }}")
            else:
                lines.append(f"map {m} {{ type {key} : {dtype};{flags} counter; }}")
        if self.name in ("C", "Cg"):
            lines.append("set out4_local { type ifname . inet_proto . inet_service . ipv4_addr; flags interval; counter; }")
            lines.append("set out6_local { type ifname . inet_proto . inet_service . ipv6_addr; flags interval; counter; }")
        lines += [f"set {s} {{ type ifname; counter; }}" for s in ("dflt_out", "dflt_in", "dflt_host")]
        lines.append("set log_deny { type ifname; }")
        lines += [f"set {s} {{ type ifname; flags dynamic,timeout; timeout 1m; size 1048576; }}"
                  for s in ("log_out", "log_in", "log_host")]
        lines.append("set log_allow { type ifname . mark; flags dynamic,timeout; timeout 1m; size 1048576; }")
        return indent(lines)

    def deny(self, dev, direction, table):
        return [f"{dev} @log_deny update @log_{table} {{ {dev} limit rate 20/second burst 40 packets }} "
                f'log prefix "{direction} default " group {GROUP}',
                f"{dev} @dflt_{table} drop"]

    def rules(self):
        k = "meta l4proto . th dport"
        if self.name == "B":
            # A miss in a map breaks the rule; a hit sets the mark to the rule id and decides.
            def hit(dev, m, addr_key, then, guard=""):
                return f"{guard}meta mark set {dev} . {k}{addr_key} map @{m} {then}"
            out = [hit("iifname", "out_inet", "", "goto out_allowed", "ip daddr != @nonpublic4 "),
                   hit("iifname", "out_inet", "", "goto out_allowed", "ip6 daddr != @nonpublic6 "),
                   hit("iifname", "out4", " . ip daddr", "goto out_allowed"),
                   hit("iifname", "out6", " . ip6 daddr", "goto out_allowed"),
                   hit("iifname", "out_sbx", " . oifname", "goto out_allowed", 'oifname "ab-*" ')]
            inb = [hit("oifname", "in_inet", "", "goto in_allowed", "ip saddr != @nonpublic4 "),
                   hit("oifname", "in_inet", "", "goto in_allowed", "ip6 saddr != @nonpublic6 "),
                   hit("oifname", "in4", " . ip saddr", "goto in_allowed"),
                   hit("oifname", "in6", " . ip6 saddr", "goto in_allowed"),
                   hit("oifname", "in_sbx", " . iifname", "goto in_allowed", 'iifname "ab-*" ')]
            host = [hit("iifname", "host_allow", "", "goto host_allowed")]
            hostin = [hit("oifname", "hostin_allow", "", "accept")]
            pre = []
        else:
            def vm(dev, m, addr_key, guard=""):
                return f"{guard}{dev} . {k}{addr_key} vmap @{m}"
            pre = ['oifname "ab-*" goto out_local']
            out = [vm("iifname", "out_inet", "", "ip daddr != @nonpublic4 "),
                   vm("iifname", "out_inet", "", "ip6 daddr != @nonpublic6 "),
                   vm("iifname", "out4", " . ip daddr"), vm("iifname", "out6", " . ip6 daddr")]
            inb = [vm("oifname", "in_inet", "", "ip saddr != @nonpublic4 "),
                   vm("oifname", "in_inet", "", "ip6 saddr != @nonpublic6 "),
                   vm("oifname", "in4", " . ip saddr"), vm("oifname", "in6", " . ip6 saddr"),
                   vm("oifname", "in_sbx", " . iifname", 'iifname "ab-*" ')]
            host = [vm("iifname", "host_allow", "")]
            hostin = [vm("oifname", "hostin_allow", "")]
        from_sandbox = ['iifname != @interfaces counter name "unknown_interface" drop'] + pre + out + \
            self.deny("iifname", "out", "out") + ["drop"]
        deliver = ['oifname != "ab-*" accept'] + inb + \
            ['oifname != @interfaces counter name "unknown_interface" drop'] + \
            self.deny("oifname", "in", "in") + ["drop"]
        to_host = host + self.deny("iifname", "out", "host") + ['counter name "unknown_interface" drop']
        from_host = hostin + ["drop"]
        # log: all sets bit 31 of the rule id; the allowed new connection is logged with its id, rate limited
        # per sandbox and rule.
        def log_all(dev, d):
            return (f"meta mark & 0x80000000 == 0x80000000 ct state new update @log_allow "
                    f"{{ {dev} . meta mark limit rate 20/second burst 40 packets }} "
                    f'log prefix "{d} allow " group {GROUP}')
        chains = {"out_allowed": [log_all("iifname", "out"), "goto deliver"],
                  "in_allowed": [log_all("oifname", "in"), "accept"],
                  "host_allowed": [log_all("iifname", "out"), "accept"]}
        if self.name != "B":
            chains = {"in_allowed": ["accept"], "host_allowed": ["accept"],
                      "out_local": [f"iifname . {k} . oifname @out_sbx goto deliver",
                                    f"iifname . {k} . ip daddr @out4_local goto deliver",
                                    f"iifname . {k} . ip6 daddr @out6_local goto deliver"]
                      + self.deny("iifname", "out", "out") + ["drop"]}
        return from_sandbox, deliver, to_host, from_host, chains

    @staticmethod
    def element_text(key, data):
        return key if data is None else f"{key} : {data}"

    def load(self, sbs, pols):
        fs, dl, th, fh, chains = self.rules()
        chain_text = "\n".join(f"\tchain {n} {{\n{indent(r)}\n\t}}" for n, r in chains.items())
        text = base(sbs, self.decls(), indent(fs), indent(dl), indent(th), indent(fh), chain_text)
        by_set = {}
        for sb, pol in zip(sbs, pols):
            for m, key, data in self.elements(sb, pol):
                by_set.setdefault(m, []).append(self.element_text(key, data))
        for m, els in by_set.items():
            # One statement per 20,000 elements keeps nft's parser and the netlink messages moderate.
            for i in range(0, len(els), 20000):
                text += f"add element inet {TABLE} {m} {{ {', '.join(els[i:i + 20000])} }}\n"
        return text

    def _tx(self, verb, els):
        by_set = {}
        for m, key, data in els:
            by_set.setdefault(m, []).append(key if verb == "delete" else self.element_text(key, data))
        return [f"{verb} element inet {TABLE} {m} {{ {', '.join(v)} }}" for m, v in by_set.items()]

    def add(self, sb, pol):
        return "\n".join(guard_tx("add", sb) + self._tx("add", self.elements(sb, pol))) + "\n"

    def replace(self, sb, old, new):
        # Only what changed: an element whose key and data stay keeps its counter.
        o, n = self.elements(sb, old), self.elements(sb, new)
        gone = [e for e in o if e not in n]
        came = [e for e in n if e not in o]
        return "\n".join(self._tx("delete", gone) + self._tx("add", came)) + "\n"

    def remove(self, sb, pol):
        return "\n".join(self._tx("delete", self.elements(sb, pol)) + guard_tx("delete", sb)) + "\n"


def port_blocks(lo, hi):
    """A port range as aligned blocks (value, prefix length of 16 bits), as a CIDR list covers an address range."""
    out = []
    while lo <= hi:
        size = lo & -lo if lo else 1 << 16
        while size > hi - lo + 1:
            size //= 2
        out.append((lo, 16 - size.bit_length() + 1))
        lo += size
    return out


class TupleLayout(SharedLayout):
    """D: every map is a hash keyed on exact (masked) values; the mask tuples in use decide the base rules."""

    def __init__(self):
        super().__init__("D")
        self.tuples = {}

    def _ports(self, sb, direction, slot, kind, proto, ports, m, tail):
        # m is B's map name (out_inet, out4, in_sbx, host_allow, ...); tail its last key field as text.
        els = []
        data = self.data_mark(sb, direction, slot)
        for p in protos(proto):
            for port in (ports or [(0, 65535)]):
                lo, hi = port if isinstance(port, tuple) else (port, port)
                for value, pm in port_blocks(lo, hi):
                    am, addr = 0, ""
                    if m[-1] in "46":
                        net = ipaddress.ip_network(tail[3:])
                        am, addr = net.prefixlen, f" . {net.network_address}"
                    elif m.endswith("_sbx"):
                        addr = tail
                    name = f"{m}_p{pm}" + (f"_a{am}" if m[-1] in "46" else "")
                    self.tuples[name] = (m, pm, am)
                    els.append((name, f'"{sb.ifname}" . {p}' + (f" . {value}" if pm else "") + addr, data))
        return els

    def data_mark(self, sb, direction, slot):
        return f"0x{(sb.sid << 8) | (slot if direction == 'out' else 0x80 | slot):08x}"

    def maps(self):
        out = {}
        for name, (m, pm, am) in self.tuples.items():
            key = "ifname . inet_proto" + (" . inet_service" if pm else "")
            key += {"4": " . ipv4_addr", "6": " . ipv6_addr"}.get(m[-1], "") + (" . ifname" if m.endswith("_sbx") else "")
            out[name] = key
        return out

    def rule(self, name):
        m, pm, am = self.tuples[name]
        direction = "out" if m.startswith(("out", "host")) else "in"
        dev = "oifname" if m.startswith(("in", "hostin")) else "iifname"
        key = f"{dev} . meta l4proto"
        if pm:
            key += " . th dport" if pm == 16 else f" . (th dport & 0x{(0xFFFF << (16 - pm)) & 0xFFFF:04x})"
        guard = ""
        side = "daddr" if direction == "out" else "saddr"
        if m[-1] in "46":
            ip = "ip" if m[-1] == "4" else "ip6"
            full = 32 if m[-1] == "4" else 128
            mask = ipaddress.ip_network(f"{'0.0.0.0' if ip == 'ip' else '::'}/{am}").netmask
            key += f" . {ip} {side}" if am == full else f" . ({ip} {side} & {mask})"
        elif m.endswith("_sbx"):
            key += " . oifname" if direction == "out" else " . iifname"
            guard = 'oifname "ab-*" ' if direction == "out" else 'iifname "ab-*" '
        then = {"out": "goto out_allowed", "in": "goto in_allowed"}[direction]
        if m.startswith("host"):
            then = "goto host_allowed" if m == "host_allow" else "accept"
        rule = f"{guard}meta mark set {key} map @{name} {then}"
        if m.endswith("_inet"):
            return [f"ip {side} != @nonpublic4 {rule}", f"ip6 {side} != @nonpublic6 {rule}"]
        return [rule]

    def rules(self):
        fs, dl, th, fh, chains = SharedLayout("B").rules()
        # Most specific tuples first, so that the compiler's disjoint elements are found in as few lookups.
        order = sorted(self.tuples, key=lambda n: (-self.tuples[n][2], -self.tuples[n][1], n))
        pick = lambda prefixes: [r for n in order if self.tuples[n][0].startswith(prefixes) for r in self.rule(n)]
        fs = fs[:1] + pick(("out",)) + fs[-3:]
        dl = dl[:1] + pick(("in_", "in4", "in6")) + dl[-4:]
        th = pick(("host_allow",)) + th[-3:]
        fh = pick(("hostin",)) + fh[-1:]
        return fs, dl, th, fh, chains

    def load(self, sbs, pols):
        for pol in (policy("s00001", 1), policy("s00002", 2)):
            self.elements(NEW, pol)  # registers the tuples the new sandbox's policies use
        for sb, pol in zip(sbs, pols):
            self.elements(sb, pol)
        return super().load(sbs, pols)


def layout(name):
    if name == "D":
        return TupleLayout()
    return LayoutA() if name == "A" else SharedLayout(name)


def sandboxes(n):
    sbs = [Sandbox(i) for i in range(n)]
    return sbs, [policy(target_of(i, n)) for i in range(n)]


# Probes of the validate flag, on layout A's table: each is (setup, do, undo). The probe map hangs off a base
# chain of its own, so that its elements are reachable like the dispatch maps' are.
PROBE_SETUP = f"""add map inet {TABLE} probe_vmap {{ type ifname : verdict; }}
add chain inet {TABLE} probe_chain
add chain inet {TABLE} probe_base {{ type filter hook forward priority 10; policy accept; }}
add rule inet {TABLE} probe_base iifname "ab-probe" iifname vmap @probe_vmap
"""
PROBES = {
    "element, plain set": (f'add element inet {TABLE} interfaces {{ "ab-probe" }}\n',
                           f'delete element inet {TABLE} interfaces {{ "ab-probe" }}\n'),
    "element, verdict accept": (f'add element inet {TABLE} probe_vmap {{ "ab-probe" : accept }}\n',
                                f'delete element inet {TABLE} probe_vmap {{ "ab-probe" }}\n'),
    "element, verdict jump": (f'add element inet {TABLE} probe_vmap {{ "ab-probe" : jump probe_chain }}\n',
                              f'delete element inet {TABLE} probe_vmap {{ "ab-probe" }}\n'),
    "rule, counter only": (f"add rule inet {TABLE} probe_chain counter\n",
                           f"flush chain inet {TABLE} probe_chain\n"),
    "rule, accept": (f"add rule inet {TABLE} probe_chain ip daddr 192.0.2.1 accept\n",
                     f"flush chain inet {TABLE} probe_chain\n"),
}
