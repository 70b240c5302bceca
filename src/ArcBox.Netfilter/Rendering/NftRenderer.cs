using ArcBox.Netfilter.Plan;

namespace ArcBox.Netfilter.Rendering;

/// <summary>
/// Renders plans as nft scripts. Each script is meant to be applied as one transaction (nft -f, or one
/// nft_run_cmd_from_buffer call): it either applies whole or changes nothing.
/// </summary>
public static class NftRenderer
{
    /// <summary>
    /// The complete ruleset: our tables created if missing, deleted, and defined again with these sandboxes.
    /// Touches no other table.
    /// </summary>
    public static string RenderRuleset(BasePlan basePlan, IReadOnlyCollection<SandboxPlan> sandboxes, IEnumerable<NftElement>? forwards = null)
    {
        var network = basePlan.Network;
        var table = network.Table;
        var w = new NftWriter();
        w.Line($"# ArcBox ruleset for network '{network.Prefix}' ({network.Subnet4}{(network.DualStack ? ", " + network.Subnet6 : "")}), {sandboxes.Count} sandbox(es).");
        w.Line($"table inet {table}").Line($"delete table inet {table}");
        w.Line($"table arp {table}").Line($"delete table arp {table}");

        // Elements of shared sets are written inline; those of maps last, after the chains they name exist.
        var shared = sandboxes.SelectMany(s => s.Elements).Concat(forwards ?? []).Distinct().ToLookup(e => (e.Family, e.Set), e => e.Value);
        w.Line($"table inet {table} {{");
        foreach (var counter in basePlan.Counters)
        {
            w.Counter(counter);
        }

        foreach (var set in basePlan.Sets.Where(s => !s.IsMap))
        {
            w.Set(set, [.. shared[("inet", set.Name)]]);
        }

        foreach (var set in basePlan.Sets.Where(s => s.IsMap).Concat(sandboxes.SelectMany(s => s.Sets)))
        {
            w.Set(set);
        }

        foreach (var chain in basePlan.Chains.Concat(sandboxes.SelectMany(s => s.Chains)))
        {
            w.Chain(chain);
        }

        w.Line("}");
        foreach (var map in basePlan.Sets.Where(s => s.IsMap))
        {
            w.Elements("add", "inet", table, map.Name, shared[("inet", map.Name)]);
        }

        w.Line($"table arp {table} {{");
        foreach (var set in basePlan.ArpSets)
        {
            w.Set(set, [.. shared[("arp", set.Name)]]);
        }

        foreach (var chain in basePlan.ArpChains)
        {
            w.Chain(chain);
        }

        w.Line("}");
        return w.ToString();
    }

    /// <summary>Adds one sandbox to a loaded ruleset.</summary>
    public static string RenderAdd(NetworkConfig network, SandboxPlan plan)
    {
        var w = new NftWriter();
        WriteDefinitions(w, network, plan.Sets, plan.Chains);
        foreach (var group in plan.Elements.GroupBy(e => (e.Family, e.Set)))
        {
            w.Elements("add", group.Key.Family, network.Table, group.Key.Set, group.Select(e => e.Value));
        }

        return w.ToString();
    }

    /// <summary>Removes every trace of one sandbox: its elements in shared sets first, then its chains and sets.</summary>
    public static string RenderRemove(NetworkConfig network, SandboxPlan plan)
    {
        var w = new NftWriter();
        WriteElementRemovals(w, network, plan.Elements);
        foreach (var chain in plan.Chains)
        {
            w.Line($"flush chain inet {network.Table} {chain.Name}");
        }

        foreach (var chain in plan.Chains)
        {
            w.Line($"delete chain inet {network.Table} {chain.Name}");
        }

        foreach (var set in plan.Sets)
        {
            w.Line($"delete set inet {network.Table} {set.Name}");
        }

        return w.ToString();
    }

    /// <summary>
    /// Swaps a sandbox's policy in one transaction: its chains are flushed and refilled, so at no moment is the
    /// sandbox without rules. Sets identical in both plans (learnt domain addresses among them) are kept.
    /// </summary>
    public static string RenderReplace(NetworkConfig network, SandboxPlan old, SandboxPlan next)
    {
        var w = new NftWriter();
        var table = network.Table;
        var oldChains = old.Chains.Select(c => c.Name).ToHashSet();
        var nextChains = next.Chains.Select(c => c.Name).ToHashSet();
        var keptSets = old.Sets.Intersect(next.Sets, SetDefinitionComparer.Instance).Select(s => s.Name).ToHashSet();

        WriteElementRemovals(w, network, old.Elements.Except(next.Elements));
        foreach (var chain in oldChains)
        {
            w.Line($"flush chain inet {table} {chain}");
        }

        foreach (var chain in oldChains.Except(nextChains))
        {
            w.Line($"delete chain inet {table} {chain}");
        }

        foreach (var set in old.Sets.Where(s => !keptSets.Contains(s.Name)))
        {
            w.Line($"delete set inet {table} {set.Name}");
        }

        WriteDefinitions(w, network, next.Sets.Where(s => !keptSets.Contains(s.Name)), next.Chains);
        foreach (var group in next.Elements.Except(old.Elements).GroupBy(e => (e.Family, e.Set)))
        {
            w.Elements("add", group.Key.Family, table, group.Key.Set, group.Select(e => e.Value));
        }

        return w.ToString();
    }

    // Commands, not a table block: libnftables fetches every chain of the table before a transaction that declares
    // chains in a block, but not before "add chain" and "add rule" commands (2 ms of each change at 1,000 sandboxes).
    /// <summary>One transaction that removes and adds elements of shared sets and maps (forwards, for instance).</summary>
    public static string RenderElements(NetworkConfig network, IEnumerable<NftElement> remove, IEnumerable<NftElement> add)
    {
        var w = new NftWriter();
        WriteElementRemovals(w, network, remove);
        foreach (var group in add.GroupBy(e => (e.Family, e.Set)))
        {
            w.Elements("add", group.Key.Family, network.Table, group.Key.Set, group.Select(e => e.Value));
        }

        return w.ToString();
    }

    private static void WriteDefinitions(NftWriter w, NetworkConfig network, IEnumerable<NftSet> sets, IEnumerable<NftChain> chains)
    {
        foreach (var set in sets)
        {
            w.AddSet(network.Table, set);
        }

        var list = chains.ToList();
        foreach (var chain in list)
        {
            w.Line($"add chain inet {network.Table} {chain.Name}");
        }

        foreach (var chain in list)
        {
            foreach (var rule in chain.Rules)
            {
                w.Line($"add rule inet {network.Table} {chain.Name} {rule.Render()}");
            }
        }
    }

    private static void WriteElementRemovals(NftWriter w, NetworkConfig network, IEnumerable<NftElement> elements)
    {
        foreach (var group in elements.GroupBy(e => (e.Family, e.Set)))
        {
            // A map element is deleted by its key alone.
            var keys = group.Select(e => e.Value.Contains(" : ", StringComparison.Ordinal) ? e.Value[..e.Value.IndexOf(" : ", StringComparison.Ordinal)] : e.Value);
            w.Elements("delete", group.Key.Family, network.Table, group.Key.Set, keys);
        }
    }

    private sealed class SetDefinitionComparer : IEqualityComparer<NftSet>
    {
        public static readonly SetDefinitionComparer Instance = new();

        public bool Equals(NftSet? x, NftSet? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Type == y.Type && x.Flags == y.Flags && x.IsMap == y.IsMap && x.Elements.SequenceEqual(y.Elements);

        public int GetHashCode(NftSet obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
