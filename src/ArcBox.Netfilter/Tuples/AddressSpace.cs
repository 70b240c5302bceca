using System.Net;
using System.Net.Sockets;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// The peer addresses of one family as the forward path sees them (the host's own addresses never reach it), cut into
/// cells that every target of the rules treats alike: each CIDR, the network, the non-public and guarded ranges and
/// the named sandboxes' addresses start and end a cell. A predicate is then exact when asked of one address per cell.
/// </summary>
internal sealed class AddressSpace
{
    private readonly NetworkView network;
    private readonly (UInt128 First, UInt128 Last) subnet;
    private readonly bool hasSubnet;
    private readonly (UInt128 First, UInt128 Last)[] nonPublic;
    private readonly (UInt128 First, UInt128 Last)[] guarded;
    private readonly Dictionary<System.Net.IPNetwork, (UInt128 First, UInt128 Last)> ranges = [];
    private readonly Dictionary<string, UInt128?> sandboxes = new(StringComparer.Ordinal);

    public AddressSpace(NetworkView network, AddressFamily family)
    {
        this.network = network;
        Family = family;
        Width = Bits.Width(family);
        var v4 = family == AddressFamily.InterNetwork;
        var sub = v4 ? network.Subnet4 : network.Subnet6;
        hasSubnet = sub is not null;
        subnet = sub is { } s ? Bits.Range(s) : default;
        nonPublic = [.. (v4 ? AddressRanges.NonPublic4 : AddressRanges.NonPublic6).Select(Bits.Range)];
        guarded = [.. (v4 ? AddressRanges.Guarded4 : AddressRanges.Guarded6).Select(Bits.Range)];
    }

    public AddressFamily Family { get; }

    public int Width { get; }

    public int FamilyNumber => Width == 32 ? 4 : 6;

    /// <summary>What the kernel's internet guard admits: neither a non-public range nor the network's own subnet
    /// (the base table's `nonpublic` sets hold both).</summary>
    public bool IsPublic(UInt128 a) => !In(nonPublic, a) && !(hasSubnet && subnet.First <= a && a <= subnet.Last);

    /// <summary>Link-local and metadata addresses, which only a CIDR inside their ranges reaches.</summary>
    public bool IsGuarded(UInt128 a) => In(guarded, a);

    public AddressRegion RegionOf(UInt128 a) => IsGuarded(a) ? AddressRegion.Guarded : IsPublic(a) ? AddressRegion.Public : AddressRegion.Private;

    /// <summary>Whether <paramref name="rule"/> names the peer at <paramref name="a"/> through one of its targets
    /// (domains aside), by the evaluator's rules: only a CIDR that lies inside a guarded range reaches it.</summary>
    public bool Names(Rule rule, UInt128 a)
    {
        foreach (var target in rule.Targets)
        {
            var match = target switch
            {
                InternetTarget => IsPublic(a),
                NetworkTarget => hasSubnet && subnet.First <= a && a <= subnet.Last,
                SandboxTarget s => SandboxAddress(s.Name) is { } own && own == a,
                CidrTarget c when c.Cidr.BaseAddress.AddressFamily == Family =>
                    Contains(RangeOf(c.Cidr), a) && (!In(guarded, a) || AddressRanges.NamesGuarded(c.Cidr)),
                _ => false,
            };
            if (match)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The cells of the whole address space for these rules, in order.</summary>
    public List<(UInt128 First, UInt128 Last)> Cells(IEnumerable<Rule> rules)
    {
        var starts = new SortedSet<UInt128> { 0 };
        void Add((UInt128 First, UInt128 Last) r)
        {
            starts.Add(r.First);
            if (r.Last < Bits.Max(Width))
            {
                starts.Add(r.Last + 1);
            }
        }

        foreach (var r in nonPublic.Concat(guarded))
        {
            Add(r);
        }

        if (hasSubnet)
        {
            Add(subnet);
        }

        foreach (var target in rules.SelectMany(r => r.Targets))
        {
            if (target is CidrTarget c && c.Cidr.BaseAddress.AddressFamily == Family)
            {
                Add(Bits.Range(c.Cidr));
            }
            else if (target is SandboxTarget s && SandboxAddress(s.Name) is { } a)
            {
                Add((a, a));
            }
        }

        var list = starts.ToList();
        var cells = new List<(UInt128, UInt128)>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            cells.Add((list[i], i + 1 < list.Count ? list[i + 1] - 1 : Bits.Max(Width)));
        }

        return cells;
    }

    private (UInt128 First, UInt128 Last) RangeOf(System.Net.IPNetwork cidr)
    {
        if (!ranges.TryGetValue(cidr, out var range))
        {
            ranges[cidr] = range = Bits.Range(cidr);
        }

        return range;
    }

    private UInt128? SandboxAddress(string name)
    {
        if (sandboxes.TryGetValue(name, out var known))
        {
            return known;
        }

        return sandboxes[name] = Lookup(name);
    }

    private UInt128? Lookup(string name)
    {
        if (!network.Sandboxes.TryGetValue(name, out var addresses))
        {
            return null;
        }

        IPAddress? address = Family == AddressFamily.InterNetwork ? addresses.Ipv4 : addresses.Ipv6;
        return address is null ? null : Bits.Of(address);
    }

    private static bool Contains((UInt128 First, UInt128 Last) r, UInt128 a) => r.First <= a && a <= r.Last;

    private static bool In((UInt128 First, UInt128 Last)[] ranges, UInt128 a) => ranges.Any(r => Contains(r, a));
}
