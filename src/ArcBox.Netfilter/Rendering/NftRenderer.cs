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
    public static string RenderAdd(NetworkConfig network, SandboxPlan plan) => Render(network, SandboxChanges.Add(plan));

    /// <summary>Removes every trace of one sandbox: its elements in shared sets first, then its chains and sets.</summary>
    public static string RenderRemove(NetworkConfig network, SandboxPlan plan) => Render(network, SandboxChanges.Remove(plan));

    /// <summary>
    /// Swaps a sandbox's policy in one transaction: its chains are flushed and refilled, so at no moment is the
    /// sandbox without rules. Sets identical in both plans (learnt domain addresses among them) are kept.
    /// </summary>
    public static string RenderReplace(NetworkConfig network, SandboxPlan old, SandboxPlan next) => Render(network, SandboxChanges.Replace(old, next));

    /// <summary>One transaction that removes and adds elements of shared sets and maps (forwards, for instance).</summary>
    public static string RenderElements(NetworkConfig network, IEnumerable<NftElement> remove, IEnumerable<NftElement> add) =>
        Render(network, SandboxChanges.Elements(remove, add));

    // Commands, not a table block: libnftables fetches every chain of the table before a transaction that declares
    // chains in a block, but not before "add chain" and "add rule" commands (2 ms of each change at 1,000 sandboxes).
    /// <summary>Spells incremental changes as one nft script.</summary>
    public static string Render(NetworkConfig network, IEnumerable<NftChange> changes)
    {
        var w = new NftWriter();
        var table = network.Table;
        foreach (var change in changes)
        {
            switch (change)
            {
                case AddSetChange c: w.AddSet(table, c.Set); break;
                case DeleteSetChange c: w.Line($"delete set inet {table} {c.Name}"); break;
                case AddChainChange c: w.Line($"add chain inet {table} {c.Name}"); break;
                case FlushChainChange c: w.Line($"flush chain inet {table} {c.Name}"); break;
                case DeleteChainChange c: w.Line($"delete chain inet {table} {c.Name}"); break;
                case AddRuleChange c: w.Line($"add rule inet {table} {c.Chain} {c.Rule.Render()}"); break;
                case AddElementsChange c: w.Elements("add", c.Family, table, c.Set, c.Values); break;
                case DeleteElementsChange c: w.Elements("delete", c.Family, table, c.Set, c.Keys); break;
                default: throw new ArgumentException($"unknown change {change.GetType().Name}", nameof(changes));
            }
        }

        return w.ToString();
    }
}
