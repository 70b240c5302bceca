using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// The fewest prefixes, each labelled with a rule, such that the longest prefix that contains an address names the
/// rule the address must get, and an address no prefix contains gets what the layers below answer (the baseline).
/// The kernel looks the longer prefixes up first, so prefixes may nest: a /64 for the network with a /128 for one
/// sandbox inside it, where disjoint blocks would need the /64 minus the /128 (64 blocks). No prefix may cover an
/// address that must be denied (there are no deny elements), and addresses of other regions may be covered or not.
/// A dynamic program over the binary trie of the address space, with memo on (node, label inherited from above).
/// </summary>
internal sealed class PrefixCover
{
    private readonly int width;
    private readonly Func<UInt128, UInt128, Node> classify;
    private readonly Dictionary<(UInt128, int, Rule?, bool), (int Cost, Rule? Choice, bool Place)> memo = new(Comparer.Instance);
    private readonly Dictionary<(UInt128, int), Node> nodes = [];

    /// <param name="classify">What the block first..last is: only other regions' addresses; one uniform piece with the
    /// rule it must get and the baseline; or mixed, with the rules its pieces must get.</param>
    private PrefixCover(int width, Func<UInt128, UInt128, Node> classify)
    {
        this.width = width;
        this.classify = classify;
    }

    /// <summary>A block of the trie as the caller sees it.</summary>
    /// <param name="Candidates">For a mixed block: the rules its pieces must get (the labels worth placing on it).</param>
    internal readonly record struct Node(bool DontCare, bool Uniform, Rule? Target, Rule? Baseline, IReadOnlyCollection<Rule> Candidates)
    {
        public static Node Elsewhere => new(true, false, null, null, []);

        public static Node Piece(Rule? target, Rule? baseline) => new(false, true, target, baseline, []);

        public static Node Mixed(IReadOnlyCollection<Rule> candidates) => new(false, false, null, null, candidates);
    }

    public static List<(UInt128 Value, int Prefix, Rule Rule)> Solve(int width, Func<UInt128, UInt128, Node> classify)
    {
        var cover = new PrefixCover(width, classify);
        var result = new List<(UInt128, int, Rule)>();
        if (cover.Cost(0, 0, null, false) >= Infeasible)
        {
            throw new InvalidOperationException("tuple compiler: no prefix cover without deny elements (a lower layer admits what no rule admits)");
        }

        cover.Collect(0, 0, null, false, result);
        return result;
    }

    private const int Infeasible = int.MaxValue / 4;

    private UInt128 End(UInt128 value, int prefix) => Bits.Last(value, width, prefix);

    /// <summary>The fewest prefixes inside the block, given the label of the longest prefix above it (none: the baseline).</summary>
    private int Cost(UInt128 value, int prefix, Rule? inherited, bool covered)
    {
        var key = (value, prefix, inherited, covered);
        if (memo.TryGetValue(key, out var known))
        {
            return known.Cost;
        }

        var node = Classify(value, prefix);
        (int, Rule?, bool) best;
        if (node.DontCare)
        {
            best = (0, null, false);
        }
        else if (node.Uniform)
        {
            var effective = covered ? inherited : node.Baseline;
            best = effective == node.Target ? (0, null, false) : node.Target is { } t ? (1, t, true) : (Infeasible, null, false);
        }
        else
        {
            var half = UInt128.One << (width - prefix - 1);
            best = (Sum(Cost(value, prefix + 1, inherited, covered), Cost(value | half, prefix + 1, inherited, covered)), null, false);
            foreach (var label in node.Candidates)
            {
                if (covered && label == inherited)
                {
                    continue;
                }

                var cost = Sum(1, Sum(Cost(value, prefix + 1, label, true), Cost(value | half, prefix + 1, label, true)));
                if (cost < best.Item1)
                {
                    best = (cost, label, true);
                }
            }
        }

        memo[key] = best;
        return best.Item1;
    }

    private void Collect(UInt128 value, int prefix, Rule? inherited, bool covered, List<(UInt128, int, Rule)> result)
    {
        Cost(value, prefix, inherited, covered);
        var (_, choice, place) = memo[(value, prefix, inherited, covered)];
        var node = Classify(value, prefix);
        if (place)
        {
            result.Add((value, prefix, choice!));
            (inherited, covered) = (choice, true);
        }

        if (node.DontCare || node.Uniform)
        {
            return;
        }

        var half = UInt128.One << (width - prefix - 1);
        Collect(value, prefix + 1, inherited, covered, result);
        Collect(value | half, prefix + 1, inherited, covered, result);
    }

    private Node Classify(UInt128 value, int prefix)
    {
        if (!nodes.TryGetValue((value, prefix), out var node))
        {
            nodes[(value, prefix)] = node = classify(value, End(value, prefix));
        }

        return node;
    }

    private static int Sum(int a, int b) => Math.Min(Infeasible, a + b);

    /// <summary>Rules compared by reference: a record's value hash walks all its fields, and one instance is one rule.</summary>
    private sealed class Comparer : IEqualityComparer<(UInt128, int, Rule?, bool)>
    {
        public static readonly Comparer Instance = new();

        public bool Equals((UInt128, int, Rule?, bool) x, (UInt128, int, Rule?, bool) y) =>
            x.Item1 == y.Item1 && x.Item2 == y.Item2 && ReferenceEquals(x.Item3, y.Item3) && x.Item4 == y.Item4;

        public int GetHashCode((UInt128, int, Rule?, bool) k) =>
            HashCode.Combine(k.Item1, k.Item2, k.Item3 is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(k.Item3), k.Item4);
    }
}
