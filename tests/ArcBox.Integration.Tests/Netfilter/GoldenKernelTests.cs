using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Tests;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>Every golden output loads into a real kernel and lists back with exactly the planned objects.</summary>
public class GoldenKernelTests
{
    public static TheoryData<string> Cases() => new(Golden.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_nft_loads_and_lists_back_as_planned(string name)
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var path = Path.Combine(Golden.Dir, name + ".yaml");
        var policy = PolicyParser.Parse(File.ReadAllText(path), path).Policy!;
        foreach (var (suffix, network) in new[] { ("nft", Golden.V4), ("dual.nft", Golden.Dual) })
        {
            using var ns = new TestNamespace("gold");
            var script = File.ReadAllText(Path.Combine(Golden.Dir, $"{name}.{suffix}"));
            ns.Nft(script).EnsureSuccess($"loading {name}.{suffix}");

            // Loading twice must work too: the script replaces our tables and nothing else.
            ns.Nft(script).EnsureSuccess($"reloading {name}.{suffix}");
            var listing = NftListing.Parse(ns.Exec("nft", "-j", "list", "table", "inet", network.Table).EnsureSuccess("list").Stdout);
            var basePlan = BaseTableBuilder.Build(network);
            var plan = SandboxCompiler.Compile(network, Golden.Web(network), policy);
            foreach (var chain in basePlan.Chains.Concat(plan.Chains))
            {
                Assert.True(listing.RulesPerChain.TryGetValue(chain.Name, out var count), $"{name}.{suffix}: chain {chain.Name} missing");

                // nft may split a rule with a set of two protocols into one, never more or fewer rules.
                Assert.Equal(chain.Rules.Length, count);
            }

            Assert.Equal(basePlan.Chains.Length + plan.Chains.Length, listing.RulesPerChain.Count);
            Assert.Equal(basePlan.Sets.Select(s => s.Name).Concat(plan.Sets.Select(s => s.Name)).ToHashSet(), listing.Sets);
            Assert.Equal(basePlan.Counters.ToHashSet(), listing.Counters);
            foreach (var group in plan.Elements.Where(e => e.Family == "inet").GroupBy(e => e.Set))
            {
                Assert.Equal(group.Count(), listing.ElementsPerSet[group.Key]);
            }

            var arp = ns.Exec("nft", "list", "table", "arp", network.Table).EnsureSuccess("list arp").Stdout;
            Assert.Contains("\"ab-web\" . 10.0.0.2 . 02:00:0a:00:00:02", arp, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Golden_iptables_loads_with_iptables_restore(string name)
    {
        Assert.SkipWhen(Root.WhyNot("iptables-restore", "ip") is not null, Root.WhyNot("iptables-restore", "ip") ?? "");
        using var ns = new TestNamespace("ipt");
        var script = File.ReadAllText(Path.Combine(Golden.Dir, $"{name}.iptables"));
        ns.ExecWithInput(script, "iptables-restore").EnsureSuccess($"iptables-restore {name}");
        var saved = ns.Exec("iptables-save").EnsureSuccess("iptables-save").Stdout;
        var expectedRules = script.Split('\n').Count(l => l.StartsWith("-A ", StringComparison.Ordinal));

        // iptables-restore expands "-d a,b" into one rule per address; never fewer rules than written.
        Assert.True(saved.Split('\n').Count(l => l.StartsWith("-A ", StringComparison.Ordinal)) >= expectedRules);
        Assert.Contains("-A ARCBOX-FROM-SANDBOX -i ab-web -j ab-web-OUT", saved, StringComparison.Ordinal);
    }
}
