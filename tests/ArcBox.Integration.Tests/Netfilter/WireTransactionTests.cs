using System.Collections.Immutable;
using System.Net;
using System.Text.RegularExpressions;
using ArcBox.Linux;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Forwarding;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Netfilter.Wire;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>
/// The daemon writes sandbox changes as nf_tables netlink batches; nft writes the same changes from scripts. Two
/// namespaces get the same random sandboxes, swaps, learnt addresses, forwards and removals, one each way, and
/// `nft list ruleset` must read the same in both after every phase: same rules, sets, elements and comments.
/// </summary>
public partial class WireTransactionTests
{
    private const int Count = 120;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Netlink_batches_leave_the_kernel_exactly_as_libnftables_scripts_do(bool dual)
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var network = RandomPolicyKernelTests.Network(dual);
        var plans = RandomPolicyKernelTests.RandomPlans(network, dual ? "0Vq2k8Lm3Zp1" : "0Hc7T1nR5Wx2", Count, dhcp: true);
        var replacements = RandomPolicyKernelTests.RandomPlans(network, dual ? "0Bd4Fg6Hj8K3" : "0Mn2Pq4Rs6T4", Count, dhcp: true);
        var basePlan = BaseTableBuilder.Build(network);
        using var viaNft = WithBase("wla", basePlan);
        using var viaWire = WithBase("wlb", basePlan);
        using var ns = NetworkNamespace.Open(TestNetwork.NetnsPath(viaWire));
        using var wire = NftNetlink.OpenIn(ns);
        var renderer = new WireRenderer(basePlan);
        var scripts = new List<string>();

        void Both(ImmutableArray<NftChange> changes, IEnumerable<NftSet> own)
        {
            scripts.Add(NftRenderer.Render(network, changes));
            Commit(wire, network.Table, renderer.Render(changes, own));
        }

        void Compare(string phase)
        {
            // Scripts in batches (one nft run each) keep the test quick; the kernel state they leave is the same.
            foreach (var batch in scripts.Chunk(40))
            {
                viaNft.Nft(string.Concat(batch)).EnsureSuccess($"{phase} (nft)");
            }

            scripts.Clear();
            var expected = Listing(viaNft);
            var actual = Listing(viaWire);
            Assert.True(expected == actual, $"{phase}: listings differ\n{FirstDifference(expected, actual)}");
        }

        foreach (var plan in plans)
        {
            Both(SandboxChanges.Add(plan), plan.Sets);
        }

        // What the resolver learns (with timeouts) and port forwards: elements of sandbox and shared sets.
        var target = new IPAddress([203, 0, 113, 7]);
        foreach (var set in plans.SelectMany(p => p.Sets).Where(s => s.Type == "type ipv4_addr").Take(20))
        {
            Both([new AddElementsChange("inet", set.Name, [$"{target} timeout 60s"])], [set]);

            // Learnt again: deleted and added in one transaction, so that the new timeout counts.
            Both([new DeleteElementsChange("inet", set.Name, [$"{target}"]), new AddElementsChange("inet", set.Name, [$"{target} timeout 120s"])], [set]);
        }

        var forwards = plans.Take(5).Select((p, i) => ForwardCompiler.Elements(network, new PortForward(IPAddress.Parse("192.0.2.1"), 8000 + i, ArcBox.Policy.Model.Protocol.Tcp, p.Identity.Name, 3000 + i), p.Identity)).SelectMany(e => e).ToList();
        forwards.AddRange(ForwardCompiler.Elements(network, new PortForward(IPAddress.Any, 9000, ArcBox.Policy.Model.Protocol.Udp, plans[5].Identity.Name, 53), plans[5].Identity));
        Both(SandboxChanges.Elements([], forwards), []);
        Compare("after adds, learnt addresses and forwards");

        foreach (var (old, next) in plans.Zip(replacements))
        {
            Both(SandboxChanges.Replace(old, next), old.Sets.Concat(next.Sets).DistinctBy(s => s.Name));
        }

        Compare("after policy swaps");

        Both(SandboxChanges.Elements(forwards, []), []);
        foreach (var plan in replacements)
        {
            Both(SandboxChanges.Remove(plan), plan.Sets);
        }

        Compare("after removals");
        Assert.DoesNotContain("sb_", Listing(viaWire), StringComparison.Ordinal);
    }

    [Fact]
    public void A_failing_batch_changes_nothing_and_names_the_step()
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var network = RandomPolicyKernelTests.Network(dual: false);
        var basePlan = BaseTableBuilder.Build(network);
        using var t = WithBase("wlf", basePlan);
        var before = Listing(t);
        using var ns = NetworkNamespace.Open(TestNetwork.NetnsPath(t));
        using var wire = NftNetlink.OpenIn(ns);
        var renderer = new WireRenderer(basePlan);
        var plan = SandboxCompiler.Compile(network, SandboxIdentity.Create(network, "x", IPAddress.Parse("10.0.0.9")), ArcBox.Policy.BuiltinPolicies.Default);

        // A bad step last, then first: the kernel goes on past a failure and acknowledges only the last step.
        ImmutableArray<NftChange> badLast = [.. SandboxChanges.Add(plan), new DeleteChainChange("no_such_chain")];
        ImmutableArray<NftChange> badFirst = [new DeleteChainChange("no_such_chain"), .. SandboxChanges.Add(plan)];
        foreach (var changes in new[] { badLast, badFirst })
        {
            var error = Assert.Throws<NftablesException>(() => Commit(wire, network.Table, renderer.Render(changes, plan.Sets)));
            Assert.Contains("delete chain inet no_such_chain", error.Message, StringComparison.Ordinal);
            Assert.Equal(before, Listing(t));
        }

        // And the socket is still good for the next batch.
        Commit(wire, network.Table, renderer.Render(SandboxChanges.Add(plan), plan.Sets));
        Assert.Contains("sb_x_out", Listing(t), StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_with_thousands_of_rules_goes_in_as_one_batch()
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var network = RandomPolicyKernelTests.Network(dual: false);
        var basePlan = BaseTableBuilder.Build(network);

        // 400 ports that do not merge, to 6 networks: 2,400 rules, about 700 KB of netlink, over the default buffer.
        var ports = string.Join(", ", Enumerable.Range(0, 400).Select(i => 2000 + (2 * i)));
        var yaml = $"network:\n  outbound:\n    - protocol: tcp\n      ports: [{ports}]\n      to: [198.51.100.0/24, 203.0.113.0/25, 192.0.2.0/26, 198.51.100.128/32, 100.64.0.0/10, 172.16.0.0/12]\n";
        var policy = PolicyParser.Parse(yaml, "big.yaml").Policy ?? throw new InvalidOperationException("big.yaml does not validate");
        var plan = SandboxCompiler.Compile(network, SandboxIdentity.Create(network, "big", IPAddress.Parse("10.0.0.9")), policy);
        Assert.True(plan.Chains.Sum(c => c.Rules.Length) > 2000);
        using var viaNft = WithBase("wlbn", basePlan);
        using var viaWire = WithBase("wlbw", basePlan);
        using var ns = NetworkNamespace.Open(TestNetwork.NetnsPath(viaWire));
        using var wire = NftNetlink.OpenIn(ns);
        viaNft.Nft(NftRenderer.RenderAdd(network, plan)).EnsureSuccess("big policy (nft)");
        Commit(wire, network.Table, new WireRenderer(basePlan).Render(SandboxChanges.Add(plan), plan.Sets));
        Assert.Equal(Listing(viaNft), Listing(viaWire));
    }

    /// <summary>What the daemon's Firewall does: encode (pure), then commit the messages as one batch.</summary>
    private static void Commit(NftNetlink wire, string table, ImmutableArray<WireOperation> operations) =>
        wire.Commit(WireEncoder.Encode(table, operations), i => WireEncoder.Describe(operations[i]));

    /// <summary>A throwaway namespace holding our base tables, loaded by nft.</summary>
    private static TestNamespace WithBase(string tag, BasePlan basePlan)
    {
        var ns = new TestNamespace(tag);
        try
        {
            ns.Nft(NftRenderer.RenderRuleset(basePlan, [])).EnsureSuccess($"base ({tag})");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    // Element timeouts count down: the listing keeps the timeout, not the time left.
    private static string Listing(TestNamespace ns) =>
        Expires().Replace(ns.Exec("nft", "list", "ruleset").EnsureSuccess("list ruleset").Stdout, "");

    private static string FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i] != b[i])
            {
                return $"line {i + 1}:\n  nft:  {a[i]}\n  wire: {b[i]}";
            }
        }

        return $"lengths {a.Length} and {b.Length}";
    }

    [GeneratedRegex(@" expires [0-9hms]+")]
    private static partial Regex Expires();
}
