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
        string Serving(ServiceAtom atom)
        {
            var shadow = Static(atom) is { } s ? rules.IndexOf(s) : int.MaxValue;
            return string.Join(',', learntRules.Where(i => i < shadow && !rules[i].Domains.IsEmpty && atom.CoveredBy(rules[i])).Order());
        }

        var result = new List<(TupleElement, ImmutableArray<int>)>();
        var family = space.FamilyNumber;
        var full = space.Width;
        var others = True(ServiceAtom.Others);
        var anyLabel = others != Static(ServiceAtom.Others) ? others : null;
        var anyServing = anyLabel is null ? "" : Serving(ServiceAtom.Others);
        if (anyLabel is not null)
        {
            result.Add((new TupleElement(new NftTuple(TuplePath.Out, TupleLayer.LearntAnyProtocol, family, 0, full), iface, 0, 0, a, anyLabel.Id), Indexes(anyServing)));
        }

        // Under a learnt any-protocol element, a piece that an earlier static rule decides is written out too.
        var pieces = new List<(ServiceAtom, (Rule, string))>();
        foreach (var atom in ServiceAtom.Cut(rules))
        {
            var label = True(atom);
            if (label != (anyLabel ?? Static(atom)))
            {
                var rule = label ?? throw Unreachable(atom);
                pieces.Add((atom, (rule, rule == Static(atom) ? anyServing : Serving(atom))));
            }
        }

        foreach (var (protocol, port, prefix, (rule, serving)) in Runs(pieces, family))
        {
            result.Add((new TupleElement(new NftTuple(TuplePath.Out, TupleLayer.Learnt, family, prefix, full), iface, protocol, port, a, rule.Id), Indexes(serving)));
        }

        return [.. result];
    }

    private static ImmutableArray<int> Indexes(string list) =>
        list.Length == 0 ? [] : [.. list.Split(',').Select(i => int.Parse(i, System.Globalization.CultureInfo.InvariantCulture))];

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
            foreach (var region in Enum.GetValues<AddressRegion>())
            {
                Address(elements, iface, path, rules, atoms, space, cells, region, Internet, internetOthers);
            }
        }
    }

    /// <summary>The address layers of one family and region: each cell's pieces that differ from the layers below.</summary>
    private static void Address(
        List<TupleElement> elements, string iface, TuplePath path, ImmutableArray<Rule> rules, List<ServiceAtom> atoms, AddressSpace space,
        List<(UInt128 First, UInt128 Last)> allCells, AddressRegion region, Func<ServiceAtom, Rule?> internet, Rule? internetOthers)
    {
        var cells = allCells.Where(c => space.RegionOf(c.First) == region).ToList();
        var anyCells = new Dictionary<Rule, List<(UInt128, UInt128)>>();
        var groups = new Dictionary<string, (List<(ServiceAtom Atom, Rule Rule)> Pieces, List<(UInt128, UInt128)> Cells)>(StringComparer.Ordinal);
        foreach (var cell in cells)
        {
            var a = cell.First;
            var isPublic = space.IsPublic(a);
            Rule? Label(ServiceAtom atom) => First(rules, atom, r => space.Names(r, a));

            var others = Label(ServiceAtom.Others);
            var anyLabel = others != (isPublic ? internetOthers : null) ? others ?? throw Unreachable(ServiceAtom.Others) : null;
            if (anyLabel is not null)
            {
                (anyCells.TryGetValue(anyLabel, out var list) ? list : anyCells[anyLabel] = []).Add(cell);
            }

            var pieces = new List<(ServiceAtom, Rule)>();
            foreach (var atom in atoms)
            {
                var label = Label(atom);
                var lower = anyLabel ?? (isPublic ? internet(atom) : null);
                if (label != lower)
                {
                    pieces.Add((atom, label ?? throw Unreachable(atom)));
                }
            }

            if (pieces.Count > 0)
            {
                var key = string.Join(';', pieces.Select(p => $"{p.Item1.Protocol}:{p.Item1.First}-{p.Item1.Last}={p.Item2.Id}"));
                if (!groups.TryGetValue(key, out var group))
                {
                    groups[key] = group = (pieces, []);
                }

                group.Cells.Add(cell);
            }
        }

        foreach (var (rule, ruleCells) in anyCells)
        {
            foreach (var (value, prefix) in AddressBlocks(ruleCells, allCells, space, region))
            {
                elements.Add(new TupleElement(new NftTuple(path, TupleLayer.AddressAnyProtocol, space.FamilyNumber, 0, prefix, region), iface, 0, 0, value, rule.Id));
            }
        }

        foreach (var (pieces, groupCells) in groups.Values)
        {
            var runs = Runs(pieces, space.FamilyNumber).ToList();
            foreach (var (value, prefix) in AddressBlocks(groupCells, allCells, space, region))
            {
                foreach (var (protocol, port, portPrefix, rule) in runs)
                {
                    elements.Add(new TupleElement(new NftTuple(path, TupleLayer.Address, space.FamilyNumber, portPrefix, prefix, region), iface, protocol, port, value, rule.Id));
                }
            }
        }
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

    /// <summary>
    /// A region's cells (in order) as CIDR blocks: runs of cells merged where only other regions' addresses lie between
    /// them, each run covered by the fewest blocks that may spill into the other regions' addresses around it.
    /// </summary>
    private static IEnumerable<(UInt128 Value, int Prefix)> AddressBlocks(
        List<(UInt128 First, UInt128 Last)> cells, List<(UInt128 First, UInt128 Last)> allCells, AddressSpace space, AddressRegion region)
    {
        bool Elsewhere(int i) => space.RegionOf(allCells[i].First) != region;
        var mine = cells.ToHashSet();
        var runs = new List<(int First, int Last)>();
        for (var i = 0; i < allCells.Count; i++)
        {
            if (!mine.Contains(allCells[i]))
            {
                continue;
            }

            // Joins the previous run when only other regions' cells lie between.
            var previous = runs.Count > 0 ? runs[^1].Last : -1;
            if (previous >= 0 && Enumerable.Range(previous + 1, i - previous - 1).All(Elsewhere))
            {
                runs[^1] = (runs[^1].First, i);
            }
            else
            {
                runs.Add((i, i));
            }
        }

        foreach (var (first, last) in runs)
        {
            var lo = first;
            while (lo > 0 && Elsewhere(lo - 1))
            {
                lo--;
            }

            var hi = last;
            while (hi + 1 < allCells.Count && Elsewhere(hi + 1))
            {
                hi++;
            }

            foreach (var block in Bits.Cover(allCells[first].First, allCells[last].Last, allCells[lo].First, allCells[hi].Last, space.Width))
            {
                yield return block;
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
