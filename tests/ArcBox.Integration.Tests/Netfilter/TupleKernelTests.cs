using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Collections.Immutable;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter.Tuples;
using ArcBox.Netfilter.Wire;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>
/// The tuple layout in a real kernel: 50 random policies in one table, one packet per flow for more than 2,000 flows
/// over every path (to the internet and the network, between sandboxes, to and from the host, DNS, learnt domain
/// addresses), both families. Every packet's verdict must be the evaluator's, and the element counters summed per
/// rule must be the evaluator's count of the flows that rule decided.
/// </summary>
public sealed class TupleKernelTests
{
    private const int Sandboxes = 50;
    private const int FlowsPerSandbox = 44;
    private const string Table = TupleTable.Table;

    // Sent with TTL 34: the forward hook sees 33 (the kernel decrements first), input and output see 34. Only such
    // packets are looked up, so the kernel's own neighbour discovery and MLD never touch a counter.
    private const int Ttl = 34;

    private static readonly string[] Forward4 =
    [
        "10.0.0.9", "10.0.0.200", "10.0.1.0", "9.255.255.255", "192.168.1.1", "172.16.0.1", "172.31.255.255", "169.254.169.254",
        "169.254.0.1", "100.64.0.1", "203.0.113.0", "203.0.113.255", "198.51.100.8", "192.0.2.0", "192.0.2.127", "192.0.2.128",
        "1.1.1.1",
    ];

    private static readonly string[] Forward6 = ["fd00::9", "fd00:0:0:1::1", "fd00:ec2::254", "2001:db8::1", "2001:db8:1::7", "2001:db9::1"];

    private static readonly string[] HostAddresses = ["10.0.0.1", "fd00::1", "192.168.100.1", "fd99::1"];

    private static readonly int[] Ports = [1, 22, 53, 80, 443, 5432, 8080, 1024, 65535, 30000];

    private static string? WhyNot => Root.WhyNot("nft", "ip") ??
        (ProcessRunner.Run("/usr/bin/python3", ["-c", "import scapy"]).ExitCode == 0 ? null : "needs Debian's python3-scapy (./run-tests installs it)");

    [Fact]
    public void Kernel_verdicts_and_rule_counters_equal_the_evaluator()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        var table = TupleTable.Random(Sandboxes, "0kSBw7MZ3ql1");
        var (view, names, policies, elements) = (table.View, table.Names, table.Policies, table.Elements);

        using var fw = new TestNamespace("tfw");
        using var sbx = new TestNamespace("tsb");
        using var up = new TestNamespace("tup");
        var macs = Topology(fw, sbx, up, names);
        Load(fw, table);

        var flows = Flows(view, names, policies);
        Send(sbx, flows.Where(f => f.From == Sender.Sandbox), macs, names);
        Send(up, flows.Where(f => f.From == Sender.Uplink), macs, names);
        Send(fw, flows.Where(f => f.From == Sender.Host), macs, names);

        var seen = Seen(fw);
        var lookup = new TupleLookup(view, elements);
        var wrong = new List<string>();
        foreach (var f in flows)
        {
            var model = lookup.Decide(f.Iface, f.Path, f.ProtocolNumber, f.Flow.Protocol == Protocol.Icmp ? 0 : f.Flow.Port, f.Path is TuplePath.Out or TuplePath.In ? f.Flow.Peer : null);
            var kernel = seen.Contains((f.Path, f.Id));
            if (model != f.Expected.RuleId || kernel != f.Expected.Allowed)
            {
                wrong.Add($"{f.Iface} {f.Path} {f.Flow} domain {f.Flow.Domain}: evaluator {f.Expected}, model {model ?? "deny"}, kernel {(kernel ? "allow" : "deny")}");
            }
        }

        Assert.True(flows.Count >= 2000, $"only {flows.Count} flows");
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {flows.Count} flows differ:\n{string.Join('\n', wrong.Take(25))}");

        var expected = flows.SelectMany(f => f.Counted).Where(c => c.Rule is not null).GroupBy(c => $"{c.Iface} {c.Rule}").ToDictionary(g => g.Key, g => g.Count());
        var counted = Counters(fw, elements);
        var keys = expected.Keys.Union(counted.Keys).Order(StringComparer.Ordinal);
        var diff = keys.Where(k => expected.GetValueOrDefault(k) != counted.GetValueOrDefault(k))
            .Select(k => $"{k}: evaluator {expected.GetValueOrDefault(k)}, element counters {counted.GetValueOrDefault(k)}").ToList();
        Assert.True(diff.Count == 0, $"per-rule counts differ:\n{string.Join('\n', diff.Take(25))}");
        // Enough of each kind for the comparison to mean something: allowed and denied flows, and many rules hit.
        var allowed = flows.Count(f => f.Expected.Allowed);
        Assert.True(allowed >= 400 && flows.Count - allowed >= 400 && expected.Count >= 100,
            $"{allowed} allowed and {flows.Count - allowed} denied flows, {expected.Count} rules hit: the random policies test too little");
    }

    private enum Sender
    {
        Sandbox,
        Uplink,
        Host,
    }

    /// <summary>One packet: who sends it, the flow the evaluator judges, and every (sandbox, rule) the kernel
    /// counts it against: a packet between two sandboxes meets the sender's outbound and the receiver's inbound.</summary>
    private sealed record TestFlow(int Id, Sender From, string Iface, string SendIface, TuplePath Path, Flow Flow, IPAddress Source, IPAddress Destination, Decision Expected, List<(string Iface, string? Rule)> Counted)
    {
        public byte ProtocolNumber => Flow.Protocol switch
        {
            Protocol.Tcp => ServiceAtom.Tcp,
            Protocol.Udp => ServiceAtom.Udp,
            _ => Flow.Peer.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? ServiceAtom.Icmp6 : ServiceAtom.Icmp,
        };
    }

    private static List<TestFlow> Flows(NetworkView view, string[] names, SandboxPolicy[] policies)
    {
        var random = new Random(20261203);
        var flows = new List<TestFlow>();
        var id = 1;
        for (var i = 0; i < names.Length; i++)
        {
            var self = view.Sandboxes[names[i]];
            for (var n = 0; n < FlowsPerSandbox; n++)
            {
                // Half the flows take their protocol and port from one of the policy's rules, so that enough of
                // them are allowed to test which rule allows them.
                var protocol = (Protocol)random.Next(1, 4);
                var port = PortOf(policies[i], random);
                var rules = policies[i].Outbound.AddRange(policies[i].Inbound);
                if (rules.Length > 0 && random.Next(2) == 0 && RandomOf([.. rules], random) is var like)
                {
                    protocol = like.Protocol == Protocol.Any ? (Protocol)random.Next(1, 3) : like.Protocol;
                    port = like.HasPorts && RandomOf([.. like.Ports], random) is var range ? (random.Next(2) == 0 ? range.First : range.Last) : port;
                }

                var kind = random.Next(10);
                var v6 = random.Next(3) == 0;
                var other = random.Next(names.Length);
                if (other == i)
                {
                    other = (i + 1) % names.Length;
                }

                var peerSandbox = view.Sandboxes[names[other]];
                var selfAddress = v6 ? self.Ipv6! : self.Ipv4;
                TestFlow F(Sender from, string sendIface, TuplePath path, Direction direction, IPAddress peer, string? domain, List<(string, string?)> counted)
                {
                    var flow = new Flow(direction, protocol, peer, port, domain);
                    var expected = PolicyEvaluator.Evaluate(policies[i], self, view, flow);
                    counted.Insert(0, (Iface(names[i]), expected.RuleId));
                    var (source, destination) = direction == Direction.Outbound ? (selfAddress, peer) : (peer, selfAddress);
                    return new TestFlow(id++, from, Iface(names[i]), sendIface, path, flow, source, destination, expected, counted);
                }

                var family = (Func<string, bool>)(a => a.Contains(':', StringComparison.Ordinal) == v6);
                switch (kind)
                {
                    case <= 2: // outbound, forwarded (or redirected to the resolver when it is DNS)
                    {
                        var learnt = TupleTable.Learnt.Where(l => family(l.Address)).ToArray();
                        var pick = random.Next(4);
                        string peer;
                        string? domain = null;
                        if (pick == 0 && learnt.Length > 0)
                        {
                            (peer, domain) = learnt[random.Next(learnt.Length)];
                        }
                        else
                        {
                            peer = pick == 1 ? (v6 ? peerSandbox.Ipv6! : peerSandbox.Ipv4).ToString() : PeerOf(policies[i].Outbound, v6, random);
                        }

                        var address = IPAddress.Parse(peer);
                        var dns = protocol != Protocol.Icmp && port == 53;
                        var counted = new List<(string, string?)>();
                        if (!dns && view.Classify(address) is { Kind: AddressKind.Sandbox, Sandbox: { } receiver })
                        {
                            var r = Array.IndexOf(names, receiver);
                            counted.Add((Iface(receiver), PolicyEvaluator.Evaluate(policies[r], view.Sandboxes[receiver], view, new Flow(Direction.Inbound, protocol, selfAddress, port)).RuleId));
                        }

                        flows.Add(F(Sender.Sandbox, Iface(names[i]), dns ? TuplePath.Host : TuplePath.Out, Direction.Outbound, address, domain, counted));
                        break;
                    }

                    case 3: // outbound to the host
                        flows.Add(F(Sender.Sandbox, Iface(names[i]), TuplePath.Host, Direction.Outbound, IPAddress.Parse(RandomOf(HostAddresses.Where(family).ToArray(), random)), null, []));
                        break;
                    case <= 6: // inbound from beyond the uplink
                        flows.Add(F(Sender.Uplink, "eth0", TuplePath.In, Direction.Inbound, IPAddress.Parse(PeerOf(policies[i].Inbound, v6, random)), null, []));
                        break;
                    case <= 8 when port != 53 || protocol == Protocol.Icmp: // inbound from another sandbox (DNS never gets there)
                    {
                        var peer = v6 ? peerSandbox.Ipv6! : peerSandbox.Ipv4;
                        var sender = PolicyEvaluator.Evaluate(policies[other], peerSandbox, view, new Flow(Direction.Outbound, protocol, selfAddress, port)).RuleId;
                        flows.Add(F(Sender.Sandbox, Iface(names[other]), TuplePath.In, Direction.Inbound, peer, null, [(Iface(names[other]), sender)]));
                        break;
                    }

                    default: // inbound from the host
                        flows.Add(F(Sender.Host, "", TuplePath.HostIn, Direction.Inbound, IPAddress.Parse(RandomOf(HostAddresses.Where(family).ToArray(), random)), null, []));
                        break;
                }
            }
        }

        return flows;
    }

    /// <summary>fw holds the table and a link ab-NAME per sandbox, whose peers eN all sit in sbx; up is beyond the
    /// uplink. Returns the MAC of each fw-side link, the frames' destination.</summary>
    private static Dictionary<string, string> Topology(TestNamespace fw, TestNamespace sbx, TestNamespace up, string[] names)
    {
        var sysctl = "net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 "
            + "net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0";
        fw.Exec("sysctl", ["-qw", .. sysctl.Split(' ')]).EnsureSuccess("fw sysctls");
        var batch = new StringBuilder();
        for (var i = 0; i < names.Length; i++)
        {
            var link = Iface(names[i]);
            batch.Append(CultureInfo.InvariantCulture, $"link add {link} type veth peer name e{i} netns {sbx.Name}\nlink set {link} up\n");
            batch.Append(CultureInfo.InvariantCulture, $"addr add 10.0.0.1/32 dev {link}\naddr add fd00::1/128 dev {link} nodad\n");
            batch.Append(CultureInfo.InvariantCulture, $"route add 10.0.0.{i + 10}/32 dev {link}\nroute add fd00::{i + 10:x}/128 dev {link}\n");
        }

        batch.Append(CultureInfo.InvariantCulture, $"link add up0 type veth peer name eth0 netns {up.Name}\nlink set up0 up\n");
        batch.Append("addr add 192.168.100.1/24 dev up0\naddr add fd99::1/64 dev up0 nodad\n");
        batch.Append("route add default via 192.168.100.2 dev up0\nroute add default via fd99::2 dev up0\n");
        fw.ExecWithInput(batch.ToString(), "ip", "-batch", "-").EnsureSuccess("fw links");
        var peers = new StringBuilder();
        for (var i = 0; i < names.Length; i++)
        {
            peers.Append(CultureInfo.InvariantCulture, $"link set e{i} up\n");
        }

        sbx.ExecWithInput(peers.ToString(), "ip", "-batch", "-").EnsureSuccess("sbx links");
        up.Exec("ip", "link", "set", "eth0", "up").EnsureSuccess("up link");
        var links = JsonDocument.Parse(fw.Exec("ip", "-j", "link", "show").EnsureSuccess("links").Stdout).RootElement;
        return links.EnumerateArray().Where(l => l.TryGetProperty("address", out _))
            .ToDictionary(l => l.GetProperty("ifname").GetString()!, l => l.GetProperty("address").GetString()!);
    }

    /// <summary>
    /// The base table as text, with test chains that record each hit's packet (by its IPv4 id or IPv6 flow label) and
    /// then drop it, so that nothing answers and nothing else counts; then the tuples' sets, rules and elements as
    /// netlink operations, the way the daemon writes them.
    /// </summary>
    private static void Load(TestNamespace fw, TupleTable table)
    {
        var seen = string.Concat(Enum.GetValues<TuplePath>().Select(path => path.ToString().ToLowerInvariant())
            .Select(p => $"  set seen_{p}4 {{ typeof ip id; flags dynamic; size 65535; }}\n  set seen_{p}6 {{ typeof ip6 flowlabel; flags dynamic; size 65535; }}\n"));
        var hooks = string.Create(CultureInfo.InvariantCulture, $$"""
              chain dns {
                type nat hook prerouting priority dstnat;
                iifname "ab-*" meta l4proto { tcp, udp } th dport 53 dnat ip to 10.0.0.1
                iifname "ab-*" meta l4proto { tcp, udp } th dport 53 dnat ip6 to fd00::1
              }
              chain forward {
                type filter hook forward priority 0; policy drop;
                iifname "ab-*" ip ttl {{Ttl - 1}} jump out_lookup
                iifname "ab-*" ip6 hoplimit {{Ttl - 1}} jump out_lookup
                oifname "ab-*" ip ttl {{Ttl - 1}} jump in_lookup
                oifname "ab-*" ip6 hoplimit {{Ttl - 1}} jump in_lookup
              }
              chain input {
                type filter hook input priority 0; policy accept;
                iifname "ab-*" ip ttl {{Ttl}} jump host_lookup
                iifname "ab-*" ip6 hoplimit {{Ttl}} jump host_lookup
                iifname "ab-*" meta l4proto != ipv6-icmp drop
              }
              chain output {
                type filter hook output priority 0; policy accept;
                oifname "ab-*" ip ttl {{Ttl}} jump hostin_lookup
                oifname "ab-*" ip6 hoplimit {{Ttl}} jump hostin_lookup
                oifname "ab-*" ip ttl {{Ttl}} drop
                oifname "ab-*" ip6 hoplimit {{Ttl}} drop
              }

            """);
        fw.Nft(table.Base(p => [$"meta nfproto ipv4 add @seen_{p}4 {{ ip id }}", $"meta nfproto ipv6 add @seen_{p}6 {{ ip6 flowlabel }}", p is "out" or "in" ? "return" : "drop"], seen + hooks))
            .EnsureSuccess("loading the base table");
        using var ns = NetworkNamespace.Open(TestNetwork.NetnsPath(fw));
        using var wire = NftNetlink.OpenIn(ns);
        var ops = TupleTable.Operations(table.Elements);
        wire.Commit(WireEncoder.Encode(Table, ops), i => WireEncoder.Describe(ops[i]));
    }

    private static void Send(TestNamespace ns, IEnumerable<TestFlow> flows, Dictionary<string, string> macs, string[] names)
    {
        var lines = new StringBuilder();
        var count = 0;
        foreach (var f in flows)
        {
            var (mode, iface, mac) = f.From switch
            {
                Sender.Sandbox => ("l2", $"e{Array.IndexOf(names, f.SendIface[3..])}", macs[f.SendIface]),
                Sender.Uplink => ("l2", "eth0", macs["up0"]),
                _ => ("l3", "-", "-"),
            };
            var proto = f.Flow.Protocol.ToString().ToLowerInvariant();
            lines.Append(CultureInfo.InvariantCulture, $"{mode} {iface} {mac} {f.Source} {f.Destination} {proto} {20000 + f.Id} {f.Flow.Port} {f.Id} {Ttl}\n");
            count++;
        }

        var script = Path.Combine(RepoPaths.Root, "tests", "tools", "flows.py");
        var result = ns.ExecWithInput(lines.ToString(), "/usr/bin/python3", script).EnsureSuccess("sending flows");
        Assert.Equal($"sent {count}", result.Stdout.Trim());
    }

    private static HashSet<(TuplePath, int)> Seen(TestNamespace fw)
    {
        var seen = new HashSet<(TuplePath, int)>();
        foreach (var path in Enum.GetValues<TuplePath>())
        {
            foreach (var family in new[] { 4, 6 })
            {
                var set = $"seen_{path.ToString().ToLowerInvariant()}{family}";
                foreach (var value in SetElements(fw, set))
                {
                    seen.Add((path, value.GetInt32()));
                }
            }
        }

        return seen;
    }

    /// <summary>Each set's element counters, summed per "INTERFACE RULEID" through the compiler's elements.</summary>
    private static Dictionary<string, int> Counters(TestNamespace fw, List<TupleElement> elements)
    {
        var rules = elements.ToDictionary(e => $"{e.Tuple.Name} {TupleRenderer.Element(e).Replace("\"", "", StringComparison.Ordinal)}", e => $"{e.Interface} {e.RuleId}");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in elements.Select(e => e.Tuple.Name).Distinct())
        {
            var listing = JsonDocument.Parse(fw.Exec("nft", "-n", "-j", "list", "set", "inet", Table, name).EnsureSuccess("list " + name).Stdout);
            var set = listing.RootElement.GetProperty("nftables").EnumerateArray().Single(e => e.TryGetProperty("set", out _)).GetProperty("set");
            foreach (var item in set.TryGetProperty("elem", out var elem) ? elem.EnumerateArray() : default)
            {
                var e = item.GetProperty("elem");
                var value = e.GetProperty("val");
                var key = value.ValueKind == JsonValueKind.Object
                    ? string.Join(" . ", value.GetProperty("concat").EnumerateArray().Select(v => v.ToString()))
                    : value.ToString();
                var packets = e.GetProperty("counter").GetProperty("packets").GetInt32();
                if (packets > 0)
                {
                    var rule = rules[$"{name} {key}"];
                    counts[rule] = counts.GetValueOrDefault(rule) + packets;
                }
            }
        }

        return counts;
    }

    private static IEnumerable<JsonElement> SetElements(TestNamespace fw, string set)
    {
        var listing = JsonDocument.Parse(fw.Exec("nft", "-j", "list", "set", "inet", Table, set).EnsureSuccess("list " + set).Stdout);
        var s = listing.RootElement.GetProperty("nftables").EnumerateArray().Single(e => e.TryGetProperty("set", out _)).GetProperty("set");
        return s.TryGetProperty("elem", out var elem) ? [.. elem.EnumerateArray()] : [];
    }

    /// <summary>Half the time an address inside one of the rules' CIDRs (the second address of a network, so that it
    /// is neither martian nor the host), else one of the fixed peers.</summary>
    private static string PeerOf(IEnumerable<Rule> rules, bool v6, Random random)
    {
        var named = rules.SelectMany(r => r.Targets).OfType<CidrTarget>().Where(c => c.IsIPv6 == v6)
            .Select(c => c.IsSingleAddress ? c.Cidr.BaseAddress : Bits.Address(Bits.Of(c.Cidr.BaseAddress) + 2, v6 ? 128 : 32))
            .Select(a => a.ToString()).Where(a => (v6 ? Forward6 : Forward4).Contains(a) || Forwardable(a)).ToArray();
        return named.Length > 0 && random.Next(2) == 0 ? RandomOf(named, random) : RandomOf(v6 ? Forward6 : Forward4, random);
    }

    /// <summary>What the kernel forwards from a sandbox link and accepts as a source from the uplink: not martian,
    /// not link-local IPv6 (never forwarded), not an address of the host.</summary>
    private static bool Forwardable(string address)
    {
        var a = IPAddress.Parse(address);
        var bytes = a.GetAddressBytes();
        return !HostAddresses.Contains(address) && (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? bytes[0] is not (0 or 127) and < 224
            : !IPAddress.IsLoopback(a) && !a.Equals(IPAddress.IPv6None) && !a.IsIPv6LinkLocal && !a.IsIPv6Multicast && !a.IsIPv4MappedToIPv6);
    }

    private static int PortOf(SandboxPolicy policy, Random random)
    {
        var own = policy.Outbound.Concat(policy.Inbound).SelectMany(r => r.Ports).SelectMany(p => new[] { p.First, p.Last }).ToArray();
        if (own.Length > 0 && random.Next(2) == 0)
        {
            return RandomOf(own, random);
        }

        var edges = policy.Outbound.Concat(policy.Inbound).SelectMany(r => r.Ports)
            .SelectMany(p => new[] { p.First - 1, p.First, p.Last, p.Last + 1 }).Where(p => p is >= 1 and <= 65535).ToArray();
        var all = Ports.Concat(edges).ToArray();
        return all[random.Next(all.Length)];
    }

    private static T RandomOf<T>(T[] list, Random random) => list[random.Next(list.Length)];

    private static string Iface(string name) => TupleTable.Iface(name);
}
