using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using ArcBox.Netfilter.Tuples;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using CsCheck;

namespace ArcBox.Netfilter.Tests.Tuples;

/// <summary>
/// The tuple compiler against the evaluator: for random policies and flows, the first hit of the base chains'
/// lookups (<see cref="TupleLookup"/>) names the same rule as the evaluator, default deny included.
/// </summary>
public sealed class TupleCompilerTests
{
    private const string Self = "self";

    private static readonly string[] Domains = ["pypi.org", "a.example.com", "files.pythonhosted.org", "other.net"];

    private static readonly string[] Peers4 =
    [
        "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.9", "10.0.0.255", "10.0.1.0", "9.255.255.255",
        "192.168.1.1", "192.168.255.255", "172.16.0.1", "172.31.255.255", "169.254.169.254", "169.254.0.1", "100.64.0.1",
        "100.127.255.255", "203.0.113.0", "203.0.113.77", "203.0.113.255", "198.51.100.7", "198.51.100.8", "192.0.2.0",
        "192.0.2.127", "192.0.2.128", "8.8.8.8", "0.0.0.1", "127.0.0.1", "224.0.0.1", "255.255.255.255", "1.1.1.1",
    ];

    private static readonly string[] Peers6 =
    [
        "fd00::1", "fd00::2", "fd00::3", "fd00::4", "fd00::ffff", "fd00:0:0:1::1", "fe80::1", "fd00:ec2::254", "::1",
        "2001:db8::1", "2001:db8:1::7", "2001:db8:1::8", "2001:db9::1", "2606:4700::1111", "ff02::1", "::ffff:1.2.3.4",
    ];

    private static readonly int[] Ports = [1, 22, 52, 53, 54, 80, 443, 5432, 8080, 8081, 1023, 1024, 65535, 30000];

    [Fact]
    public void KernelLookupsNameTheEvaluatorsRule()
    {
        var flows = Gen.Select(Gen.Int[0, 1], Gen.Int[0, 2], Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 4]).Array[40];
        Gen.Select(PolicyGenerator.Yaml(ipv6: true, allowDomains: true, maxRules: 6), Gen.Bool, Gen.Bool, flows)
            .Sample((yaml, dual, gammaExists, picks) => Check(yaml, dual, gammaExists, picks), iter: 400);
    }

    [Fact]
    public void InternetIsOneAddresslessElementPerService()
    {
        var (view, elements) = Compile("network:\n  outbound:\n    - protocol: tcp\n      ports: [80, 443]\n", dual: true);
        var forward = elements.Where(e => e.Tuple.Path == TuplePath.Out).ToList();
        Assert.Equal(2, forward.Count);
        Assert.All(forward, e => Assert.Equal("out_p16", e.Tuple.Name));
        Assert.Equal([80, 443], forward.Select(e => (int)e.Port).Order());
        var lookup = new TupleLookup(view, elements);
        Assert.Equal("outbound[0]", lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 443, IPAddress.Parse("2606:4700::1111")));
        Assert.Null(lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 443, IPAddress.Parse("192.168.1.7")));
    }

    [Fact]
    public void AnEarlierNarrowRuleWinsOverALaterWideOne()
    {
        var (view, elements) = Compile(
            "network:\n  outbound:\n    - protocol: tcp\n      port: 22\n      to: [203.0.113.0/24]\n    - to: [0.0.0.0/0]\n", dual: false);
        var lookup = new TupleLookup(view, elements);
        Assert.Equal("outbound[0]", lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 22, IPAddress.Parse("203.0.113.9")));
        Assert.Equal("outbound[1]", lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 23, IPAddress.Parse("203.0.113.9")));
        Assert.Equal("outbound[1]", lookup.Decide("ab-self", TuplePath.Out, 132, 0, IPAddress.Parse("8.8.8.8")));

        // 0.0.0.0/0 does not open the metadata service.
        Assert.Null(lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 80, IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public void AWideCidrIsOneBlockPerRegion()
    {
        // Public and private peers have their own lookups and the metadata range is denied before either, so
        // `0.0.0.0/0` needs neither the complement of the non-public ranges nor a hole at 169.254.0.0/16.
        var (view, elements) = Compile("network:\n  outbound:\n    - protocol: tcp\n      port: 80\n    - protocol: tcp\n      port: \"80-90\"\n      to: [\"0.0.0.0/0\"]\n", dual: false);
        var address = elements.Where(e => e.Tuple.Path == TuplePath.Out && e.Tuple.HasAddress).ToList();
        Assert.All(address, e => Assert.Equal(0, e.Tuple.AddressPrefix));
        Assert.Equal([AddressRegion.Public, AddressRegion.Private], address.Select(e => e.Tuple.Region).Distinct().Order());
        var lookup = new TupleLookup(view, elements);
        Assert.Equal("outbound[0]", lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 80, IPAddress.Parse("1.1.1.1")));
        Assert.Equal("outbound[1]", lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 80, IPAddress.Parse("192.168.1.7")));
        Assert.Equal("outbound[1]", lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 85, IPAddress.Parse("1.1.1.1")));
        Assert.Null(lookup.Decide("ab-self", TuplePath.Out, ServiceAtom.Tcp, 85, IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public void PortRangesBecomeAlignedBlocks()
    {
        var (_, elements) = Compile("network:\n  outbound:\n    - protocol: tcp\n      port: \"1024-65535\"\n", dual: false);
        var blocks = elements.Where(e => e.Tuple.Path == TuplePath.Out).Select(e => (e.Port, e.Tuple.PortPrefix)).Order().ToList();
        Assert.Equal([(1024, 6), (2048, 5), (4096, 4), (8192, 3), (16384, 2), (32768, 1)], blocks.Select(b => ((int)b.Port, b.PortPrefix)));
    }

    private static void Check(string yaml, bool dual, bool gammaExists, (int, int, int, int, int)[] picks)
    {
        var parsed = PolicyParser.Parse(yaml, "gen.yaml");
        Assert.True(parsed.Policy is not null, yaml);
        var policy = parsed.Policy!;
        var view = View(dual, gammaExists);
        var self = view.Sandboxes[Self];
        var elements = TupleCompiler.Compile(view, "ab-self", policy);
        foreach (var (direction, protocol, peerPick, portPick, domainPick) in picks)
        {
            var outbound = direction == 0;
            var l4 = protocol switch { 0 => Protocol.Tcp, 1 => Protocol.Udp, _ => Protocol.Icmp };
            var peers = dual ? Peers4.Concat(Peers6).ToArray() : Peers4;
            var peer = IPAddress.Parse(peers[peerPick % peers.Length]);
            var port = PortOf(policy, portPick);
            var domain = outbound && domainPick < Domains.Length ? Domains[domainPick] : null;
            var flow = new Flow(outbound ? Direction.Outbound : Direction.Inbound, l4, peer, port, domain);
            var expected = PolicyEvaluator.Evaluate(policy, self, view, flow);
            var actual = Model(view, policy, elements, flow);
            Assert.True(expected.RuleId == actual, $"{flow} (domain {domain}): evaluator {expected}, tuples {actual ?? "default deny"}\n{yaml}");
        }
    }

    /// <summary>The path the kernel gives the flow, and the lookups of that path.</summary>
    private static string? Model(NetworkView view, SandboxPolicy policy, ImmutableArray<TupleElement> elements, Flow flow)
    {
        if (TupleFlow.Of(view, flow) is not { } to)
        {
            return null; // the guard drops IPv6 on an IPv4-only network
        }

        var all = elements;
        if (flow.Domain is { } name && to.Path == TuplePath.Out)
        {
            var learnt = policy.Outbound.Select((r, i) => (r, i)).Where(x => x.r.Domains.Any(d => d.Matches(name))).Select(x => x.i).ToHashSet();
            var extra = TupleCompiler.Learnt(view, "ab-self", policy, flow.Peer, learnt);
            Assert.All(extra, e => Assert.All(e.Rules, i => Assert.Contains(i, learnt)));
            all = all.AddRange(extra.Select(e => e.Element));
        }

        return new TupleLookup(view, all).Decide("ab-self", to.Path, to.Protocol, to.Port, to.Peer);
    }

    /// <summary>Ports at and around the policy's own boundaries, and a few common ones.</summary>
    private static int PortOf(SandboxPolicy policy, int pick)
    {
        var edges = policy.Outbound.Concat(policy.Inbound).SelectMany(r => r.Ports)
            .SelectMany(p => new[] { p.First - 1, p.First, p.Last, p.Last + 1 }).Where(p => p is >= 1 and <= 65535).ToArray();
        var all = Ports.Concat(edges).ToArray();
        return all[pick % all.Length];
    }

    private static NetworkView View(bool dual, bool gammaExists)
    {
        var view = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), dual ? IPNetwork.Parse("fd00::/64") : null) with
        {
            HostAddresses = [IPAddress.Parse("192.168.1.1")],
        };
        string[] names = gammaExists ? [Self, "alpha", "beta", "gamma"] : [Self, "alpha", "beta"];
        for (var i = 0; i < names.Length; i++)
        {
            var host = (i + 2).ToString(CultureInfo.InvariantCulture);
            view = view.WithSandbox(names[i], new SandboxAddresses(IPAddress.Parse("10.0.0." + host), dual ? IPAddress.Parse("fd00::" + host) : null));
        }

        return view;
    }

    private static (NetworkView View, ImmutableArray<TupleElement> Elements) Compile(string yaml, bool dual)
    {
        var view = View(dual, gammaExists: true);
        return (view, TupleCompiler.Compile(view, "ab-self", PolicyParser.Parse(yaml, "t.yaml").Policy!));
    }
}
