using System.Net;
using System.Text;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Netfilter.Tests;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using CsCheck;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>
/// Hundreds of random compiled policies go into a real kernel: as one complete ruleset, and one by one as the
/// daemon will apply them (add, replace, remove). After the removals nothing of any sandbox is left.
/// </summary>
public class RandomPolicyKernelTests
{
    private const int Count = 300;

    /// <summary><paramref name="count"/> random policies compiled for sandboxes s0, s1, ...; every third a tap with DHCP when asked.</summary>
    internal static List<SandboxPlan> RandomPlans(NetworkConfig network, string seed, int count = Count, bool dhcp = false)
    {
        var yamls = PolicyGenerator.Yaml(ipv6: network.DualStack).Array[count].Single(_ => true, seed);
        return [.. yamls.Select((yaml, i) =>
        {
            var policy = PolicyParser.Parse(yaml, $"random{i}.yaml").Policy ?? throw new InvalidOperationException(yaml);
            var v4 = IPAddress.Parse($"10.0.{(i + 2) / 250}.{((i + 2) % 250) + 2}");
            var v6 = network.DualStack ? IPAddress.Parse($"fd00:ab::{i + 2:x}") : null;
            return SandboxCompiler.Compile(network, SandboxIdentity.Create(network, $"s{i}", v4, v6, dhcp: dhcp && i % 3 == 0), policy);
        })];
    }

    internal static NetworkConfig Network(bool dual) =>
        NetworkConfig.Create("ab", IPNetwork.Parse("10.0.0.0/16"), dual ? IPNetwork.Parse("fd00:ab::/64") : null);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Random_policies_load_as_one_ruleset(bool dual)
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var network = Network(dual);
        var plans = RandomPlans(network, dual ? "0N0XIzNsQ0O2" : "0Z2D7f5Xq3v1");
        using var ns = new TestNamespace("rnd");
        var script = NftRenderer.RenderRuleset(BaseTableBuilder.Build(network), plans);
        ns.Nft(script).EnsureSuccess("loading the random ruleset");
        var listing = NftListing.Parse(ns.Exec("nft", "-j", "list", "table", "inet", network.Table).EnsureSuccess("list").Stdout);
        Assert.Equal(plans.Sum(p => p.Chains.Length) + BaseTableBuilder.Build(network).Chains.Length, listing.RulesPerChain.Count);
        Assert.Equal(plans.Count, listing.ElementsPerSet[ObjectNames.OutDispatch]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Random_policies_add_replace_and_remove_incrementally_leaving_nothing(bool dual)
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var network = Network(dual);
        var plans = RandomPlans(network, dual ? "0ZlTmqe8Mfy1" : "01Ge6Tm3k8s2");
        var replacements = RandomPlans(network, dual ? "0d1ZqXxW3k12" : "0j8Fq1pL2mn3");
        using var ns = new TestNamespace("inc");
        var basePlan = BaseTableBuilder.Build(network);
        ns.Nft(NftRenderer.RenderRuleset(basePlan, [])).EnsureSuccess("base");

        // Batches of transactions per nft run keep the test fast; each transaction is still applied on its own.
        Apply(ns, plans.Select(p => NftRenderer.RenderAdd(network, p)), "add");
        Apply(ns, plans.Zip(replacements).Select(pair => NftRenderer.RenderReplace(network, pair.First, pair.Second)), "replace");
        var afterReplace = NftListing.Parse(ns.Exec("nft", "-j", "list", "table", "inet", network.Table).EnsureSuccess("list").Stdout);
        foreach (var plan in replacements)
        {
            foreach (var chain in plan.Chains)
            {
                Assert.Equal(chain.Rules.Length, afterReplace.RulesPerChain[chain.Name]);
            }
        }

        Apply(ns, replacements.Select(p => NftRenderer.RenderRemove(network, p)), "remove");
        var listing = NftListing.Parse(ns.Exec("nft", "-j", "list", "table", "inet", network.Table).EnsureSuccess("list").Stdout);
        Assert.Equal(basePlan.Chains.Select(c => c.Name).Order(), listing.RulesPerChain.Keys.Order());
        Assert.Equal(basePlan.Sets.Select(s => s.Name).Order(), listing.Sets.Order());
        Assert.Equal(basePlan.Counters.Order(), listing.Counters.Order());
        Assert.DoesNotContain(listing.RulesPerChain.Keys, c => c.StartsWith(ObjectNames.SandboxPrefix, StringComparison.Ordinal));
        Assert.All(listing.ElementsPerSet, kv => Assert.True(basePlan.Sets.Single(s => s.Name == kv.Key).Elements.Length == kv.Value, $"{kv.Key} still has {kv.Value} elements"));
        var arp = ns.Exec("nft", "list", "table", "arp", network.Table).EnsureSuccess("list arp").Stdout;
        Assert.DoesNotContain("\"ab-s", arp, StringComparison.Ordinal);
    }

    private static void Apply(TestNamespace ns, IEnumerable<string> transactions, string what)
    {
        var list = transactions.ToList();

        // The first few alone, as the daemon applies them; the rest in batches of 50 per nft run (one transaction
        // each batch) to keep the test quick. Either way the kernel must accept every command.
        foreach (var script in list.Take(10))
        {
            ns.Nft(script).EnsureSuccess($"{what}:\n{script}");
        }

        foreach (var batch in list.Skip(10).Chunk(50))
        {
            ns.Nft(string.Concat(batch)).EnsureSuccess($"{what} batch");
        }
    }
}
