using System.Collections.Immutable;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Evaluation;
using static ArcBox.Netfilter.Plan.ObjectNames;

namespace ArcBox.Netfilter.Compiler;

/// <summary>
/// The base tables: default drop for every interface with our prefix, dispatch by verdict map to per-sandbox chains
/// (one lookup whatever the number of sandboxes), anti-spoofing by concatenated set lookups, DNS redirect and masquerade.
/// </summary>
public static class BaseTableBuilder
{
    /// <summary>The mark of the daemon's relayed connections (ArcBox.Daemon's LoopbackRelay.Mark, "ABXF").</summary>
    public const string RelayMark = "0x41425846";

    private static readonly string[] NdFromSandbox = ["nd-neighbor-solicit", "nd-neighbor-advert", "nd-router-solicit", "mld-listener-report", "mld2-listener-report"];

    public static BasePlan Build(NetworkConfig network)
    {
        var ours = $"\"{network.InterfaceWildcard}\"";
        var dual = network.DualStack;
        var sets = ImmutableArray.CreateBuilder<NftSet>();
        sets.Add(new NftSet(TcpUdp, "type inet_proto", null, ["tcp", "udp"]));
        sets.Add(new NftSet(Icmp, "type inet_proto", null, ["icmp", "ipv6-icmp"]));
        sets.Add(new NftSet(Net4, "type ipv4_addr", "interval", [network.Subnet4.ToString()]));
        sets.Add(new NftSet(NonPublic4, "type ipv4_addr", "interval", [.. AddressRanges.NonPublic4.Select(n => n.ToString())]));
        sets.Add(new NftSet(Guarded4, "type ipv4_addr", "interval", [.. AddressRanges.Guarded4.Select(n => n.ToString())]));
        sets.Add(new NftSet(Known, "type ifname", null, []));
        sets.Add(new NftSet(Source4, "type ifname . ether_addr . ipv4_addr", null, []));

        // TAP sandboxes get DHCP from the daemon: their link . MAC (the only client served), and their link.
        sets.Add(new NftSet(DhcpClients, "type ifname . ether_addr", null, []));
        sets.Add(new NftSet(DhcpLinks, "type ifname", null, []));
        sets.Add(new NftSet(DhcpRate, "type ifname", "dynamic,timeout; timeout 1m; size 65535", []));
        if (dual)
        {
            sets.Add(new NftSet(Net6, "type ipv6_addr", "interval", [network.Subnet6!.Value.ToString()]));
            sets.Add(new NftSet(NonPublic6, "type ipv6_addr", "interval", [.. AddressRanges.NonPublic6.Select(n => n.ToString())]));
            sets.Add(new NftSet(Guarded6, "type ipv6_addr", "interval", [.. AddressRanges.Guarded6.Select(n => n.ToString())]));
            sets.Add(new NftSet(Mac, "type ifname . ether_addr", null, []));
            sets.Add(new NftSet(Addr6, "type ifname . ipv6_addr", null, []));

            // The target address of a neighbour advertisement (ICMPv6 bytes 8-23) has no nft keyword in 1.0.x.
            sets.Add(new NftSet(NdTarget6, "typeof iifname . @th,64,128", null, []));
        }

        foreach (var map in new[] { OutDispatch, InDispatch, HostDispatch, HostInDispatch })
        {
            sets.Add(new NftSet(map, "type ifname : verdict", null, [], IsMap: true));
        }

        sets.Add(new NftSet(Forward4, "type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service", null, [], IsMap: true));
        sets.Add(new NftSet(ForwardAny4, "type inet_proto . inet_service : ipv4_addr . inet_service", null, [], IsMap: true));
        sets.Add(new NftSet(ForwardAllowed4, "type ipv4_addr . inet_proto . inet_service", null, []));
        if (dual)
        {
            sets.Add(new NftSet(Forward6, "type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service", null, [], IsMap: true));
            sets.Add(new NftSet(ForwardAny6, "type inet_proto . inet_service : ipv6_addr . inet_service", null, [], IsMap: true));
            sets.Add(new NftSet(ForwardAllowed6, "type ipv6_addr . inet_proto . inet_service", null, []));
        }

        var chains = ImmutableArray.CreateBuilder<NftChain>();

        // Before conntrack (raw priority), on every packet: a spoofed packet never creates a connection entry, nor
        // slips into another sandbox's established one. One lookup checks link, MAC and address together, and TCP,
        // most of the traffic, leaves right after it.
        chains.Add(Chain("prerouting_raw", "type filter hook prerouting priority raw; policy accept;", $"iifname {ours} jump sandbox_guard"));
        var guard = new List<string>
        {
            // A DHCP client has no address yet: its DISCOVER and REQUEST come from 0.0.0.0 to the broadcast address.
            $"ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 iifname . ether saddr @{DhcpClients} accept",
            $"meta nfproto ipv4 iifname . ether saddr . ip saddr != @{Source4} counter name \"{SpoofCounter}\" drop",
            // Sandbox links route loopback (route_localnet, for localhost forwards): no sandbox may address it.
            $"ip daddr 127.0.0.0/8 counter name \"{SpoofCounter}\" drop",

            // Options that route (LSRR, SSRR) would send the packet on to an address the forward filter never sees;
            // record-route collects the host's addresses. Dropped whatever the host's accept_source_route says.
            // A header without options (length 5) costs one comparison.
            $"ip hdrlength != 5 jump {RouteOptions}",
            "meta nfproto ipv4 meta l4proto tcp accept",
            $"udp sport 67 counter name \"{SpoofCounter}\" drop",
            $"icmp type redirect counter name \"{SpoofCounter}\" drop",
        };
        if (dual)
        {
            guard.AddRange(
            [
                $"meta nfproto ipv6 iifname . ether saddr != @{Mac} counter name \"{SpoofCounter}\" drop",
                $"icmpv6 type {{ nd-router-advert, nd-redirect }} counter name \"{SpoofCounter}\" drop",
                $"udp sport 547 counter name \"{SpoofCounter}\" drop",

                // A neighbour advertisement may only claim the sandbox's own address, or a link-local one (its own link).
                $"icmpv6 type nd-neighbor-advert @th,64,16 & 0xffc0 != 0xfe80 iifname . @th,64,128 != @{NdTarget6} counter name \"{SpoofCounter}\" drop",
                "ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } accept",
                $"ip6 saddr fe80::/10 icmpv6 type {{ {string.Join(", ", NdFromSandbox)} }} accept",
                $"meta nfproto ipv6 iifname . ip6 saddr != @{Addr6} counter name \"{SpoofCounter}\" drop",
                $"exthdr rt exists counter name \"{RouteOptionCounter}\" drop",
            ]);
        }
        else
        {
            guard.Add($"meta nfproto ipv6 counter name \"{SpoofCounter}\" drop");
        }

        chains.Add(Chain("sandbox_guard", null, [.. guard]));
        chains.Add(Chain(
            RouteOptions,
            null,
            $"ip option lsrr exists counter name \"{RouteOptionCounter}\" drop",
            $"ip option ssrr exists counter name \"{RouteOptionCounter}\" drop",
            $"ip option rr exists counter name \"{RouteOptionCounter}\" drop"));

        // Every DNS packet from a sandbox goes to our resolver, whatever address it was sent to.
        var dnat = new List<string> { $"iifname {ours} meta nfproto ipv4 meta l4proto @{TcpUdp} th dport 53 dnat ip to {network.Gateway4}" };
        if (dual)
        {
            dnat.Add($"iifname {ours} meta nfproto ipv6 meta l4proto @{TcpUdp} th dport 53 dnat ip6 to {network.Gateway6}");
        }

        // Port forwards: the exact host address first, then forwards on every local address.
        var forwards = new List<string>
        {
            $"meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @{Forward4}",
            $"fib daddr type local meta nfproto ipv4 dnat ip to meta l4proto . th dport map @{ForwardAny4}",
        };
        if (dual)
        {
            forwards.Add($"meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th dport map @{Forward6}");
            forwards.Add($"fib daddr type local meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @{ForwardAny6}");
        }

        chains.Add(Chain("prerouting_nat", "type nat hook prerouting priority dstnat; policy accept;", [.. dnat, .. forwards]));

        // The host's own clients (localhost forwards) are translated on their way out.
        chains.Add(Chain("output_nat", "type nat hook output priority -100; policy accept;", [.. forwards]));
        var egress = network.Uplink is { } uplink ? $"oifname \"{uplink}\"" : $"oifname != {ours}";
        // A local client of a forward has a loopback source, which no sandbox may receive: it leaves as the gateway.
        var masquerade = new List<string> { $"ip saddr @{Net4} {egress} masquerade", $"ct status dnat ip saddr 127.0.0.0/8 oifname {ours} masquerade" };
        if (dual)
        {
            masquerade.Add($"ip6 saddr @{Net6} {egress} masquerade");
        }

        chains.Add(Chain("postrouting_nat", "type nat hook postrouting priority srcnat; policy accept;", [.. masquerade]));

        // Forward: the sender's outbound chain (jumped: an allow returns here), then the receiver's inbound chain.
        // Out chains never jump on to the in chains themselves: the kernel validates every path through the
        // verdict maps at each commit, and out x in paths would make loading 10,000 sandboxes quadratic.
        chains.Add(Chain("forward_filter", "type filter hook forward priority filter; policy accept;", $"iifname {ours} jump from_sandbox", $"oifname {ours} jump to_sandbox"));
        chains.Add(Chain(
            "from_sandbox",
            null,
            [
                .. OwnConnectionsOnly(dual),
                $"ct state invalid counter name \"{InvalidCounter}\" drop",
                $"iifname vmap @{OutDispatch}",
                $"iifname != @{Known} counter name \"{UnknownCounter}\" drop",
                $"goto {Deliver}",
            ]));
        chains.Add(Chain(
            "to_sandbox",
            null,
            "ct state established,related accept",
            $"ct state invalid counter name \"{InvalidCounter}\" drop",
            $"goto {Deliver}"));
        var deliver = new List<string>();
        if (!dual)
        {
            deliver.Add("meta nfproto ipv6 oifname " + ours + " drop");
        }

        deliver.AddRange([.. ForwardAllowed(dual), $"oifname vmap @{InDispatch}", $"oifname {ours} counter name \"{UnknownCounter}\" drop", "accept"]);
        chains.Add(Chain(Deliver, null, [.. deliver]));

        // Sandbox to the host itself: only what its host chain opens (DNS, and 'host' rules).
        chains.Add(Chain("input_filter", "type filter hook input priority filter; policy accept;", $"iifname {ours} jump to_host"));
        var toHost = new List<string>([.. OwnConnectionsOnly(dual), $"ct state invalid counter name \"{InvalidCounter}\" drop"]);
        if (dual)
        {
            toHost.Add($"icmpv6 type {{ {string.Join(", ", NdFromSandbox)} }} accept");
        }

        // DHCP to the daemon, from a TAP sandbox's own MAC only, and at most 20 packets a second per link (a guest
        // needs a handful per boot and renewal): a flood costs the kernel, never the daemon.
        toHost.Add($"udp sport 68 udp dport 67 iifname . ether saddr @{DhcpClients} update @{DhcpRate} {{ iifname limit rate 20/second burst 40 packets }} accept");
        toHost.AddRange([$"iifname vmap @{HostDispatch}", $"counter name \"{UnknownCounter}\" drop"]);
        chains.Add(Chain("to_host", null, [.. toHost]));

        // The host itself to a sandbox: replies, neighbour discovery, and what 'from: host' rules open.
        chains.Add(Chain("output_filter", "type filter hook output priority filter; policy accept;", $"oifname {ours} jump from_host"));
        // A DHCP answer to a client without an address goes to the broadcast address, which conntrack cannot pair.
        var fromHost = new List<string>([.. HostErrorsAboutAdmittedOnly(dual), "ct state established,related accept", $"udp sport 67 udp dport 68 oifname @{DhcpLinks} accept"]);
        if (dual)
        {
            fromHost.Add("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept");
        }

        fromHost.AddRange([.. ForwardAllowed(dual), $"oifname vmap @{HostInDispatch}", "drop"]);
        chains.Add(Chain("from_host", null, [.. fromHost]));

        var arpSets = ImmutableArray.Create(new NftSet(ArpOk, "type ifname . ipv4_addr . ether_addr", null, []));

        // ARP from a sandbox must carry its own address and MAC. The host answers for the gateway (proxy ARP).
        var arpChains = ImmutableArray.Create(Chain(
            "arp_input",
            "type filter hook input priority filter; policy accept;",
            $"iifname {ours} iifname . arp saddr ip . arp saddr ether != @{ArpOk} counter drop"));

        return new BasePlan(network, sets.ToImmutable(), [SpoofCounter, UnknownCounter, InvalidCounter, ForeignCounter, RouteOptionCounter, HiddenCounter], chains.ToImmutable(), arpSets, arpChains);
    }

    /// <summary>
    /// Established and related packets from a sandbox, accepted only for connections the sandbox is an endpoint of.
    /// An established packet is one by construction: its tuple is one of its connection's, and the guard has made
    /// its source the sandbox's. A related one (an ICMP error) names another connection in its payload, and
    /// conntrack ties it to that connection whatever link it came in on: so the sandbox's address must be the
    /// source of the connection's tuple in the packet's direction (the original for a connection it opened, the
    /// reply for one opened to it; NAT included, since the tuples are the translated ones). The kernel binds the other
    /// end: an error whose outer destination is not that tuple's destination is invalid (nf_conntrack_inet_error),
    /// so a related packet passes only as sandbox to peer, about their own connection.
    /// </summary>
    private static IEnumerable<string> OwnConnectionsOnly(bool dual)
    {
        yield return "ct state established accept";
        foreach (var direction in new[] { "original", "reply" })
        {
            yield return $"ct state related ct direction {direction} iifname . ether saddr . ct {direction} ip saddr @{Source4} accept";
            if (dual)
            {
                yield return $"ct state related ct direction {direction} iifname . ct {direction} ip6 saddr @{Addr6} accept";
            }
        }

        yield return $"ct state related counter name \"{ForeignCounter}\" drop";
    }

    /// <summary>
    /// ICMP errors that the host itself sends to a sandbox (time exceeded, unreachable, packet too big, parameter
    /// problem) leave only about a connection some policy admitted. The kernel sends them from routing and from
    /// ip_forward, before the forward filter: about a packet with TTL 1, or one it cannot route, to any address.
    /// The error carries that packet's conntrack entry, which is confirmed only once a filter has accepted it, so
    /// an unconfirmed one means the policy never judged the packet. Redirects never go to a sandbox.
    /// </summary>
    private static IEnumerable<string> HostErrorsAboutAdmittedOnly(bool dual)
    {
        yield return $"icmp type redirect counter name \"{HiddenCounter}\" drop";
        yield return $"icmp type {{ destination-unreachable, time-exceeded, parameter-problem }} ct status & confirmed == 0 counter name \"{HiddenCounter}\" drop";
        if (dual)
        {
            yield return $"icmpv6 type nd-redirect counter name \"{HiddenCounter}\" drop";
            yield return $"icmpv6 type {{ destination-unreachable, packet-too-big, time-exceeded, parameter-problem }} ct status & confirmed == 0 counter name \"{HiddenCounter}\" drop";
        }
    }

    /// <summary>
    /// What arrives through a forward passes to that one port; the sandbox's inbound policy decides the rest. A
    /// forward is either a translation (ct status dnat) or the daemon's relay for [::1] clients (its packet mark).
    /// </summary>
    private static IEnumerable<string> ForwardAllowed(bool dual)
    {
        yield return $"ct status dnat ip daddr . meta l4proto . th dport @{ForwardAllowed4} accept";
        yield return $"meta mark {RelayMark} ip daddr . meta l4proto . th dport @{ForwardAllowed4} accept";
        if (dual)
        {
            yield return $"ct status dnat ip6 daddr . meta l4proto . th dport @{ForwardAllowed6} accept";
        }
    }

    private static NftChain Chain(string name, string? hook, params IEnumerable<string> rules) =>
        new(name, [.. rules.Select(r => new NftRule(r))], hook);
}
