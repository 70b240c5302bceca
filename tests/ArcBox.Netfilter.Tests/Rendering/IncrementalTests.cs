using System.Net;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Policy;
using ArcBox.Policy.Parsing;

namespace ArcBox.Netfilter.Tests.Rendering;

public class IncrementalTests
{
    private static readonly NetworkConfig Network = Golden.Dual;

    private static SandboxPlan Plan(string policyName, string yamlOrBuiltin = "")
    {
        var policy = yamlOrBuiltin.Length == 0 ? BuiltinPolicies.Default : PolicyParser.Parse(yamlOrBuiltin, policyName).Policy!;
        return SandboxCompiler.Compile(Network, Golden.Web(Network), policy);
    }

    [Fact]
    public void Remove_deletes_every_object_that_add_created()
    {
        var plan = Plan("everything", File.ReadAllText(Path.Combine(Golden.Dir, "everything.yaml")));
        var remove = NftRenderer.RenderRemove(Network, plan);
        foreach (var chain in plan.Chains)
        {
            Assert.Contains($"delete chain inet arcbox-ab {chain.Name}\n", remove, StringComparison.Ordinal);
        }

        foreach (var set in plan.Sets)
        {
            Assert.Contains($"delete set inet arcbox-ab {set.Name}\n", remove, StringComparison.Ordinal);
        }

        foreach (var set in plan.Elements.Select(e => (e.Family, e.Set)).Distinct())
        {
            Assert.Contains($"delete element {set.Family} arcbox-ab {set.Set} {{", remove, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_per_sandbox_object_is_named_after_the_sandbox()
    {
        var plan = Plan("everything", File.ReadAllText(Path.Combine(Golden.Dir, "everything.yaml")));
        var names = plan.Chains.Select(c => c.Name).Concat(plan.Sets.Select(s => s.Name));
        Assert.All(names, n => Assert.Equal("web", ObjectNames.SandboxOf(n)));
        var basePlan = BaseTableBuilder.Build(Network);
        Assert.All(basePlan.Chains.Select(c => c.Name).Concat(basePlan.Sets.Select(s => s.Name)).Concat(basePlan.Counters), n => Assert.Null(ObjectNames.SandboxOf(n)));
    }

    [Fact]
    public void Replace_keeps_identical_sets_so_learnt_domain_addresses_survive()
    {
        var domains = File.ReadAllText(Path.Combine(Golden.Dir, "domains.yaml"));
        var before = Plan("a", domains);
        var after = Plan("b", domains.Replace("port: 53", "ports: [53, 5353]", StringComparison.Ordinal));
        var script = NftRenderer.RenderReplace(Network, before, after);
        var domainSet = Assert.Single(before.Sets, s => s.Name.Contains("o1_dom4", StringComparison.Ordinal)).Name;
        Assert.Contains(after.Sets, s => s.Name == domainSet);
        Assert.DoesNotContain($"delete set inet arcbox-ab {domainSet}", script, StringComparison.Ordinal);
        Assert.Contains("flush chain inet arcbox-ab sb_web_out", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Replace_adds_and_removes_the_host_in_chain_with_its_dispatch_element()
    {
        var withHost = Plan("h", "network:\n  inbound:\n    - from: host\n      port: 22\n");
        var without = Plan("n", "network: {}\n");
        var drop = NftRenderer.RenderReplace(Network, withHost, without);
        Assert.Contains("delete element inet arcbox-ab hostin_dispatch { \"ab-web\" }", drop, StringComparison.Ordinal);
        Assert.Contains("delete chain inet arcbox-ab sb_web_hostin", drop, StringComparison.Ordinal);
        Assert.True(drop.IndexOf("delete element inet arcbox-ab hostin_dispatch", StringComparison.Ordinal) < drop.IndexOf("delete chain", StringComparison.Ordinal));
        var add = NftRenderer.RenderReplace(Network, without, withHost);
        Assert.Contains("add element inet arcbox-ab hostin_dispatch { \"ab-web\" : goto sb_web_hostin }", add, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_ports_and_networks_are_merged_and_expanded_without_per_sandbox_sets()
    {
        var plan = Plan("o", "network:\n  outbound:\n    - protocol: tcp\n      ports: [80, \"70-90\", 91, 443]\n      to: [10.0.0.0/8, 10.1.0.0/16, 192.0.2.1]\n");
        Assert.Empty(plan.Sets);
        var rules = plan.Chains.Single(c => c.Name == "sb_web_out").Rules.Where(r => r.Comment == "outbound[0]").Select(r => r.Text).ToList();
        Assert.Equal(
            [
                "tcp dport 70-91 ip daddr 10.0.0.0/8 counter return",
                "tcp dport 443 ip daddr 10.0.0.0/8 counter return",
                "tcp dport 70-91 ip daddr 192.0.2.1 counter return",
                "tcp dport 443 ip daddr 192.0.2.1 counter return",
            ],
            rules);
    }

    [Fact]
    public void Rule_order_is_kept_so_the_first_match_is_the_evaluators_rule()
    {
        var plan = Plan("e", File.ReadAllText(Path.Combine(Golden.Dir, "everything.yaml")));
        var ids = plan.Chains.Single(c => c.Name == "sb_web_out").Rules.Select(r => r.Comment).Where(c => c != "default").Distinct().ToList();
        Assert.Equal(ids.OrderBy(i => int.Parse(i![(i!.IndexOf('[') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)), ids);
    }

    [Fact]
    public void Ipv4_only_network_drops_all_sandbox_ipv6_and_has_no_v6_objects()
    {
        var basePlan = BaseTableBuilder.Build(Golden.V4);
        Assert.Contains(basePlan.Chains.Single(c => c.Name == "sandbox_guard").Rules, r => r.Text.StartsWith("meta nfproto ipv6 counter", StringComparison.Ordinal) && r.Text.EndsWith("drop", StringComparison.Ordinal));
        Assert.DoesNotContain(basePlan.Sets, s => s.Type.Contains("ipv6", StringComparison.Ordinal));
    }
}
