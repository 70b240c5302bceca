using System.Collections.Immutable;
using System.Net.Sockets;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// Compiles one sandbox's policy into elements of shared hash maps keyed on masked values (tuple space search), so that
/// creating, swapping or removing a sandbox changes elements only and never a rule or a chain. The rules' first-match
/// order becomes disjoint pieces: the service space is cut where any rule's ports begin or end, the address space
/// where any target begins or ends, each piece takes the first rule that admits it, and pieces are written as
/// aligned port blocks times CIDR blocks. Layers (<see cref="TupleLayer"/>) keep broad targets cheap: `internet` is
/// one addressless element per service behind the base table's guard, `protocol: any` one element per address block,
/// and a higher layer holds only what differs from the answer below it.
/// </summary>
public static class TupleCompiler
{
    public static ImmutableArray<TupleElement> Compile(NetworkView network, string iface, SandboxPolicy policy)
    {
        var elements = new List<TupleElement>();
        Forward(elements, network, iface, TuplePath.Out, policy.Outbound);
        Forward(elements, network, iface, TuplePath.In, policy.Inbound);

        // After the DNS redirect every DNS packet arrives at the host, and a rule that admits port 53 admits DNS.
        Addressless(elements, iface, TuplePath.Host, ServiceAtom.Cut(policy.Outbound, 53), atom =>
            atom.Protocol is ServiceAtom.Tcp or ServiceAtom.Udp && atom.First == 53
                ? policy.DnsRule(atom.Protocol == ServiceAtom.Tcp ? Protocol.Tcp : Protocol.Udp)
                : First(policy.Outbound, atom, r => r.Targets.Contains(Target.Host)));
        Addressless(elements, iface, TuplePath.HostIn, ServiceAtom.Cut(policy.Inbound), atom =>
            First(policy.Inbound, atom, r => r.Targets.Contains(Target.Host)));
        return [.. elements];
    }

    /// <summary>
    /// The elements that admit what the resolver learnt: <paramref name="address"/> answered a name that the outbound
    /// rules at <paramref name="learntRules"/> (indexes) allow. Each comes with the rules it serves, whose learnt
    /// entries' expiry bounds its timeout. Empty for a non-public address (no DNS rebinding into private ranges) and
    /// where earlier rules decide anyway.
    /// </summary>
    public static ImmutableArray<(TupleElement Element, ImmutableArray<int> Rules)> Learnt(
        NetworkView network, string iface, SandboxPolicy policy, System.Net.IPAddress address, IReadOnlySet<int> learntRules)
    {
        var space = new AddressSpace(network, address.AddressFamily);
        var a = Bits.Of(address);
        if (!space.IsPublic(a) || (address.AddressFamily == AddressFamily.InterNetworkV6 && !network.DualStack))
        {
            return [];
        }

        var rules = policy.Outbound;
        Rule? Static(ServiceAtom atom) => First(rules, atom, r => space.Names(r, a));
        Rule? True(ServiceAtom atom) => First(rules, atom, r => space.Names(r, a) || (!r.Domains.IsEmpty && learntRules.Contains(rules.IndexOf(r))));

        // The learnt rules that admit the piece and are not shadowed by an earlier static target: the element must
        // live while any of their entries does.
        Serving Serves(ServiceAtom atom)
        {
            var shadow = Static(atom) is { } s ? rules.IndexOf(s) : int.MaxValue;
            return new Serving([.. learntRules.Where(i => i < rules.Length && i < shadow && !rules[i].Domains.IsEmpty && atom.CoveredBy(rules[i])).Order()]);
        }

        var result = new List<(TupleElement, ImmutableArray<int>)>();
        var family = space.FamilyNumber;
        var full = space.Width;
        var others = True(ServiceAtom.Others);
        var anyLabel = others != Static(ServiceAtom.Others) ? others : null;
        var anyServing = anyLabel is null ? new Serving([]) : Serves(ServiceAtom.Others);
        if (anyLabel is not null)
        {
            result.Add((new TupleElement(new NftTuple(TuplePath.Out, TupleLayer.LearntAnyProtocol, family, 0, full), iface, 0, 0, a, anyLabel.Id), anyServing.Rules));
        }

        // Under a learnt any-protocol element, a piece that an earlier static rule decides is written out too.
        var pieces = new List<(ServiceAtom, (Rule, Serving))>();
        foreach (var atom in ServiceAtom.Cut(rules))
        {
            var label = True(atom);
            if (label != (anyLabel ?? Static(atom)))
            {
                var rule = label ?? throw Unreachable(atom);
                pieces.Add((atom, (rule, rule == Static(atom) ? anyServing : Serves(atom))));
            }
        }

        foreach (var (protocol, port, prefix, (rule, serving)) in Runs(pieces, family))
        {
            result.Add((new TupleElement(new NftTuple(TuplePath.Out, TupleLayer.Learnt, family, prefix, full), iface, protocol, port, a, rule.Id), serving.Rules));
        }

        return [.. result];
    }

    /// <summary>The learnt rules a learnt element serves, equal by content so that pieces serving the same merge.</summary>
    private sealed record Serving(ImmutableArray<int> Rules)
    {
        public bool Equals(Serving? other) => other is not null && Rules.SequenceEqual(other.Rules);

        public override int GetHashCode() => Rules.Aggregate(17, (h, i) => (h * 31) + i);
    }

    /// <summary>A forward path: addressless `internet` layers, then per family the address layers.</summary>
    private static void Forward(List<TupleElement> elements, NetworkView network, string iface, TuplePath path, ImmutableArray<Rule> rules)
    {
        var atoms = ServiceAtom.Cut(rules);
        Rule? Internet(ServiceAtom atom) => First(rules, atom, r => r.Targets.Contains(Target.Internet));
        Addressless(elements, iface, path, atoms, Internet);
        var internetOthers = Internet(ServiceAtom.Others);

        var families = network.DualStack ? new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 } : [AddressFamily.InterNetwork];
        foreach (var family in families)
        {
            var space = new AddressSpace(network, family);
            var cells = space.Cells(rules);
            var labels = new Labeller(rules, atoms, space);
            foreach (var region in Enum.GetValues<AddressRegion>())
            {
                Address(elements, iface, path, labels, atoms, space, cells, region, Internet, internetOthers);
            }
        }
    }

    /// <summary>
    /// The address layers of one family and region. The any-protocol layer first: the prefixes that give every cell the
    /// label of its protocol-less piece where that differs from the internet layers. Then per service piece, the
    /// prefixes that give each cell its label where that differs from what the any-protocol and internet layers
    /// answer; pieces with the same labels everywhere share one cover and become port runs.
    /// </summary>
    private static void Address(
        List<TupleElement> elements, string iface, TuplePath path, Labeller labels, List<ServiceAtom> atoms, AddressSpace space,
        List<(UInt128 First, UInt128 Last)> allCells, AddressRegion region, Func<ServiceAtom, Rule?> internet, Rule? internetOthers)
    {
        var isPublic = region == AddressRegion.Public;
        Rule? Label(ServiceAtom atom, UInt128 a) => labels.Label(atom, a);

        // Most policies have nothing here: every cell gets what the internet layers answer.
        var anyNeeded = allCells.Any(c => space.RegionOf(c.First) == region && Label(ServiceAtom.Others, c.First) != (isPublic ? internetOthers : null));
        var any = anyNeeded ? PrefixCover.Solve(space.Width, Classifier(space, region, allCells, a => (Label(ServiceAtom.Others, a), isPublic ? internetOthers : null))) : [];
        foreach (var (value, prefix, rule) in any)
        {
            elements.Add(new TupleElement(new NftTuple(path, TupleLayer.AddressAnyProtocol, space.FamilyNumber, 0, prefix, region), iface, 0, 0, value, rule.Id));
        }

        // Below a service piece: the longest any-protocol prefix that holds the address, else the internet layers.
        // Cut at those prefixes' ends too, so that this is one answer per cell.
        var cut = Cut(allCells, any.Select(p => (p.Value, Bits.Last(p.Value, space.Width, p.Prefix))));
        Rule? AnyAnswer(UInt128 a)
        {
            (int Prefix, Rule? Rule) best = (-1, null);
            foreach (var (value, prefix, rule) in any)
            {
                if (prefix > best.Prefix && Bits.Mask(a, space.Width, prefix) == value)
                {
                    best = (prefix, rule);
                }
            }

            return best.Rule;
        }

        var covers = new Dictionary<string, List<(UInt128 Value, int Prefix, Rule Rule)>>(StringComparer.Ordinal);
        var regionCells = cut.Where(c => space.RegionOf(c.First) == region).ToList();
        var pieces = new List<(ServiceAtom, string)>();
        foreach (var atom in atoms)
        {
            // Atoms with the same labels in every cell share a cover.
            var signature = labels.Signature(atom, regionCells, a => AnyAnswer(a) ?? (isPublic ? internet(atom) : null));
            if (!covers.TryGetValue(signature, out var cover))
            {
                // Most pieces get what the layers below answer in every cell: nothing to write.
                var same = regionCells.All(c => Label(atom, c.First) == (AnyAnswer(c.First) ?? (isPublic ? internet(atom) : null)));
                covers[signature] = cover = same ? [] : PrefixCover.Solve(space.Width, Classifier(space, region, cut, a => (Label(atom, a), AnyAnswer(a) ?? (isPublic ? internet(atom) : null))));
            }

            if (cover.Count > 0)
            {
                pieces.Add((atom, signature));
            }
        }

        foreach (var (protocol, port, portPrefix, signature) in Runs(pieces, space.FamilyNumber))
        {
            foreach (var (value, prefix, rule) in covers[signature])
            {
                elements.Add(new TupleElement(new NftTuple(path, TupleLayer.Address, space.FamilyNumber, portPrefix, prefix, region), iface, protocol, port, value, rule.Id));
            }
        }
    }

    /// <summary>
    /// The rule each service piece gets at each address of one path and family, computed once: which rules name an
    /// address is asked once per cell, and which rules admit a piece once per piece.
    /// </summary>
    private sealed class Labeller(ImmutableArray<Rule> rules, List<ServiceAtom> atoms, AddressSpace space)
    {
        private readonly Dictionary<ServiceAtom, bool[]> admits = atoms.Append(ServiceAtom.Others).Distinct()
            .ToDictionary(a => a, a => rules.Select(a.CoveredBy).ToArray());

        private readonly Dictionary<UInt128, bool[]> names = [];
        private readonly Dictionary<Rule, int> index = rules.Select((r, i) => (r, i)).ToDictionary(x => x.r, x => x.i, (IEqualityComparer<Rule>)ReferenceEqualityComparer.Instance);

        public Rule? Label(ServiceAtom atom, UInt128 a)
        {
            if (!names.TryGetValue(a, out var named))
            {
                names[a] = named = [.. rules.Select(r => space.Names(r, a))];
            }

            var admitted = admits.TryGetValue(atom, out var known) ? known : admits[atom] = [.. rules.Select(atom.CoveredBy)];
            for (var i = 0; i < named.Length; i++)
            {
                if (admitted[i] && named[i])
                {
                    return rules[i];
                }
            }

            return null;
        }

        /// <summary>A piece's labels and baselines over the cells, as a string to group pieces by: one char each.</summary>
        public string Signature(ServiceAtom atom, List<(UInt128 First, UInt128 Last)> cells, Func<UInt128, Rule?> baseline)
        {
            var chars = new char[cells.Count * 2];
            for (var i = 0; i < cells.Count; i++)
            {
                chars[2 * i] = Code(Label(atom, cells[i].First));
                chars[(2 * i) + 1] = Code(baseline(cells[i].First));
            }

            return new string(chars);
        }

        private char Code(Rule? rule) => rule is null ? '\0' : (char)(index[rule] + 1);
    }

    /// <summary>The prefix cover's view of a block: the region's cells in it, each with the rule it must get and the
    /// baseline (<paramref name="answer"/> at the cell's first address; the cells are cut so that both are uniform).</summary>
    private static Func<UInt128, UInt128, PrefixCover.Node> Classifier(
        AddressSpace space, AddressRegion region, List<(UInt128 First, UInt128 Last)> cells, Func<UInt128, (Rule? Target, Rule? Baseline)> answer)
    {
        var starts = cells.Select(c => c.First).ToArray();
        var regions = cells.Select(c => space.RegionOf(c.First)).ToArray();
        var answers = cells.Select((c, i) => regions[i] == region ? answer(c.First) : default).ToArray();
        return (first, last) =>
        {
            var i = Array.BinarySearch(starts, first);
            i = i >= 0 ? i : ~i - 1;

            // Cells that must get the same rule over the same baseline are one piece to the cover, however many.
            var start = i;
            (Rule? Target, Rule? Baseline)? one = null;
            var mixed = false;
            for (; i < starts.Length && starts[i] <= last; i++)
            {
                if (regions[i] == region)
                {
                    one ??= answers[i];
                    mixed |= !ReferenceEquals(one.Value.Target, answers[i].Target) || !ReferenceEquals(one.Value.Baseline, answers[i].Baseline);
                }
            }

            if (mixed)
            {
                var candidates = new HashSet<Rule>(ReferenceEqualityComparer.Instance);
                for (var j = start; j < i; j++)
                {
                    if (regions[j] == region && answers[j].Target is { } t)
                    {
                        candidates.Add(t);
                    }
                }

                return PrefixCover.Node.Mixed([.. candidates]);
            }

            return one is { } piece ? PrefixCover.Node.Piece(piece.Target, piece.Baseline) : PrefixCover.Node.Elsewhere;
        };
    }

    /// <summary>The cells cut further at the given ranges' ends.</summary>
    private static List<(UInt128 First, UInt128 Last)> Cut(List<(UInt128 First, UInt128 Last)> cells, IEnumerable<(UInt128 First, UInt128 Last)> ranges)
    {
        var starts = new SortedSet<UInt128>(cells.Select(c => c.First));
        var max = cells[^1].Last;
        foreach (var (first, last) in ranges)
        {
            starts.Add(first);
            if (last < max)
            {
                starts.Add(last + 1);
            }
        }

        var list = starts.ToList();
        return [.. list.Select((s, i) => (s, i + 1 < list.Count ? list[i + 1] - 1 : max))];
    }

    /// <summary>Keys without an address: `Service` elements only where they differ from the `AnyProtocol` one.</summary>
    private static void Addressless(List<TupleElement> elements, string iface, TuplePath path, List<ServiceAtom> atoms, Func<ServiceAtom, Rule?> label)
    {
        var others = label(ServiceAtom.Others);
        if (others is not null)
        {
            elements.Add(new TupleElement(new NftTuple(path, TupleLayer.AnyProtocol, 0, 0, 0), iface, 0, 0, 0, others.Id));
        }

        var pieces = new List<(ServiceAtom, Rule)>();
        foreach (var atom in atoms)
        {
            var rule = label(atom);
            if (rule != others)
            {
                pieces.Add((atom, rule ?? throw Unreachable(atom)));
            }
        }

        foreach (var (protocol, port, prefix, rule) in Runs(pieces, 0))
        {
            elements.Add(new TupleElement(new NftTuple(path, TupleLayer.Service, 0, prefix, 0), iface, protocol, port, 0, rule.Id));
        }
    }

    /// <summary>Adjacent pieces of one protocol and rule merged into port ranges, written as aligned port blocks; ICMP
    /// as ICMP for IPv4, ICMPv6 for IPv6, and both in a key without address (family 0).</summary>
    private static IEnumerable<(byte Protocol, ushort Port, int Prefix, T Label)> Runs<T>(List<(ServiceAtom Atom, T Label)> pieces, int family)
    {
        var i = 0;
        while (i < pieces.Count)
        {
            var (atom, rule) = pieces[i];
            var last = atom.Last;
            var j = i + 1;
            while (j < pieces.Count && EqualityComparer<T>.Default.Equals(pieces[j].Label, rule) && pieces[j].Atom.Protocol == atom.Protocol && pieces[j].Atom.First == last + 1)
            {
                last = pieces[j++].Atom.Last;
            }

            i = j;
            if (atom.Protocol == ServiceAtom.Icmp)
            {
                foreach (var protocol in family switch { 4 => [ServiceAtom.Icmp], 6 => [ServiceAtom.Icmp6], _ => new[] { ServiceAtom.Icmp, ServiceAtom.Icmp6 } })
                {
                    yield return (protocol, 0, 0, rule);
                }

                continue;
            }

            foreach (var (value, prefix) in Bits.Blocks((UInt128)atom.First, (UInt128)last, 16))
            {
                yield return (atom.Protocol, (ushort)value, prefix, rule);
            }
        }
    }

    private static Rule? First(IEnumerable<Rule> rules, ServiceAtom atom, Func<Rule, bool> peer) =>
        rules.FirstOrDefault(r => atom.CoveredBy(r) && peer(r));

    /// <summary>A lower layer admits a piece that no rule admits: every layer's element comes from a rule that covers
    /// the piece, so this is a compiler bug, not bad input.</summary>
    private static InvalidOperationException Unreachable(ServiceAtom atom) =>
        new($"tuple compiler: a lower layer admits {atom} that no rule admits");
}
