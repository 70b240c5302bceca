using System.Collections.Immutable;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// One transaction of the tuple layout: the shapes to create before anything uses them and those no element uses any
/// more, the lookup chains whose rules change (rebuilt whole: a chain's order is the lookup order, and a rule
/// inserted in the middle would need the kernel's handles; the rules hold no state, the elements hold the
/// counters), and the elements to delete, then to add. Learnt elements carry their timeouts.
/// </summary>
public sealed record TupleDelta(
    ImmutableArray<NftTuple> NewShapes,
    ImmutableArray<NftTuple> GoneShapes,
    ImmutableArray<string> Chains,
    ImmutableArray<TupleElement> Delete,
    ImmutableArray<(TupleElement Element, TimeSpan? Timeout)> Add)
{
    public bool IsEmpty => NewShapes.IsEmpty && GoneShapes.IsEmpty && Delete.IsEmpty && Add.IsEmpty;
}
