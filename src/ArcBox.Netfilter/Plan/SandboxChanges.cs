using System.Collections.Immutable;

namespace ArcBox.Netfilter.Plan;

/// <summary>The steps that add, swap or remove one sandbox in a loaded ruleset, each list one transaction.</summary>
public static class SandboxChanges
{
    /// <summary>Adds one sandbox: its sets, chains and rules, then its elements in shared sets.</summary>
    public static ImmutableArray<NftChange> Add(SandboxPlan plan)
    {
        var changes = ImmutableArray.CreateBuilder<NftChange>();
        Definitions(changes, plan.Sets, plan.Chains);
        AddElements(changes, plan.Elements);
        return changes.ToImmutable();
    }

    /// <summary>Removes every trace of one sandbox: its elements in shared sets first, then its chains and sets.</summary>
    public static ImmutableArray<NftChange> Remove(SandboxPlan plan)
    {
        var changes = ImmutableArray.CreateBuilder<NftChange>();
        DeleteElements(changes, plan.Elements);
        changes.AddRange(plan.Chains.Select(c => new FlushChainChange(c.Name)));
        changes.AddRange(plan.Chains.Select(c => new DeleteChainChange(c.Name)));
        changes.AddRange(plan.Sets.Select(s => new DeleteSetChange(s.Name)));
        return changes.ToImmutable();
    }

    /// <summary>
    /// Swaps a sandbox's policy: its chains are flushed and refilled, so at no moment is the sandbox without rules.
    /// Sets identical in both plans (learnt domain addresses among them) are kept.
    /// </summary>
    public static ImmutableArray<NftChange> Replace(SandboxPlan old, SandboxPlan next)
    {
        var changes = ImmutableArray.CreateBuilder<NftChange>();
        var oldChains = old.Chains.Select(c => c.Name).ToList();
        var nextChains = next.Chains.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var keptSets = old.Sets.Intersect(next.Sets, SetDefinitionComparer.Instance).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

        DeleteElements(changes, old.Elements.Except(next.Elements));
        changes.AddRange(oldChains.Select(c => new FlushChainChange(c)));
        changes.AddRange(oldChains.Where(c => !nextChains.Contains(c)).Select(c => new DeleteChainChange(c)));
        changes.AddRange(old.Sets.Where(s => !keptSets.Contains(s.Name)).Select(s => new DeleteSetChange(s.Name)));
        Definitions(changes, next.Sets.Where(s => !keptSets.Contains(s.Name)), next.Chains);
        AddElements(changes, next.Elements.Except(old.Elements));
        return changes.ToImmutable();
    }

    /// <summary>Removes and adds elements of shared sets and maps (forwards, for instance).</summary>
    public static ImmutableArray<NftChange> Elements(IEnumerable<NftElement> remove, IEnumerable<NftElement> add)
    {
        var changes = ImmutableArray.CreateBuilder<NftChange>();
        DeleteElements(changes, remove);
        AddElements(changes, add);
        return changes.ToImmutable();
    }

    private static void Definitions(ImmutableArray<NftChange>.Builder changes, IEnumerable<NftSet> sets, IEnumerable<NftChain> chains)
    {
        changes.AddRange(sets.Select(s => new AddSetChange(s)));
        var list = chains.ToList();
        changes.AddRange(list.Select(c => new AddChainChange(c.Name)));
        changes.AddRange(list.SelectMany(c => c.Rules.Select(r => new AddRuleChange(c.Name, r))));
    }

    private static void AddElements(ImmutableArray<NftChange>.Builder changes, IEnumerable<NftElement> elements) =>
        changes.AddRange(elements.GroupBy(e => (e.Family, e.Set)).Select(g => new AddElementsChange(g.Key.Family, g.Key.Set, [.. g.Select(e => e.Value)])));

    private static void DeleteElements(ImmutableArray<NftChange>.Builder changes, IEnumerable<NftElement> elements) =>
        changes.AddRange(elements.GroupBy(e => (e.Family, e.Set)).Select(g => new DeleteElementsChange(g.Key.Family, g.Key.Set, [.. g.Select(e => KeyOf(e.Value))])));

    /// <summary>A map element is deleted by its key alone.</summary>
    private static string KeyOf(string value)
    {
        var arrow = value.IndexOf(" : ", StringComparison.Ordinal);
        return arrow < 0 ? value : value[..arrow];
    }

    private sealed class SetDefinitionComparer : IEqualityComparer<NftSet>
    {
        public static readonly SetDefinitionComparer Instance = new();

        public bool Equals(NftSet? x, NftSet? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Type == y.Type && x.Flags == y.Flags && x.IsMap == y.IsMap && x.Elements.SequenceEqual(y.Elements);

        public int GetHashCode(NftSet obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
