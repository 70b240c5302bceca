using System.Globalization;
using System.Text;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// The tuple layout as nft text: one set per tuple (its elements carry their own counters), one base-chain rule per
/// tuple in lookup order, and the elements. A hit jumps to the path's allowed chain; the sets hold no data, so adding
/// or deleting elements never sets the table's validate flag.
/// </summary>
public static class TupleRenderer
{
    /// <summary>The set that holds a tuple's elements, as declared inside a table block.</summary>
    public static string Declaration(NftTuple tuple) => $"set {tuple.Name} {SetBody(tuple)}";

    /// <summary>The same as a command: `add set inet arcbox-ab out_p16 { ... }`.</summary>
    public static string AddSet(string family, string table, NftTuple tuple) => $"add set {family} {table} {tuple.Name} {SetBody(tuple)}";

    private static string SetBody(NftTuple tuple)
    {
        var flags = tuple.Layer is TupleLayer.Learnt or TupleLayer.LearntAnyProtocol ? " flags timeout;" : "";
        return $"{{ type {KeyType(tuple)};{flags} counter; }}";
    }

    /// <summary>
    /// The lookup chains of one path, in order, named "{path}_lookup" and, on the forward paths, "{path}{4|6}_private"
    /// and "{path}{4|6}_guarded": the fixed dispatch rules (<see cref="Dispatch"/>), then each tuple's rule in the chain
    /// of <see cref="ChainOf"/>, in lookup order. A hit runs <paramref name="hit"/> ("goto out_allowed"); a miss falls
    /// off the end, back to the caller of the lookup chain, which denies.
    /// </summary>
    public static List<(string Chain, List<string> Rules)> Chains(IEnumerable<NftTuple> tuples, TuplePath path, bool dualStack, string hit)
    {
        var chains = Dispatch(path, dualStack);
        foreach (var tuple in tuples.Where(t => t.Path == path).Distinct().Order(Comparer<NftTuple>.Create(NftTuple.Compare)))
        {
            chains.Single(c => c.Chain == ChainOf(tuple)).Rules.Add(Rule(tuple, hit));
        }

        return chains;
    }

    /// <summary>
    /// A path's chains with their fixed rules: on the forward paths the lookup chain sends a guarded or private peer to
    /// its region's chain (interval sets `guarded4`/`guarded6` and `nonpublic4`/`nonpublic6`, which hold the subnets
    /// too); public peers stay in the lookup chain, whose addressless tuples come last.
    /// </summary>
    public static List<(string Chain, List<string> Rules)> Dispatch(TuplePath path, bool dualStack)
    {
        var rules = DispatchRule.Of(path, dualStack).ToList();
        return [(LookupChain(path), [.. rules.Select(r => r.Text)]), .. rules.Select(r => (r.Target, new List<string>()))];
    }

    /// <summary>The chain that holds the tuple's rule.</summary>
    public static string ChainOf(NftTuple tuple) =>
        tuple.HasAddress && tuple.Region != AddressRegion.Public ? RegionChain(tuple.Path, tuple.Family, tuple.Region) : LookupChain(tuple.Path);

    /// <summary>Every lookup chain of a path: the path's own, then its region chains.</summary>
    public static IEnumerable<string> ChainsOf(TuplePath path, bool dualStack) =>
        [LookupChain(path), .. DispatchRule.Of(path, dualStack).Select(r => r.Target)];

    public static string LookupChain(TuplePath path) => $"{path.ToString().ToLowerInvariant()}_lookup";

    public static string RegionChain(TuplePath path, int family, AddressRegion region) =>
        $"{path.ToString().ToLowerInvariant()}{family}_{region.ToString().ToLowerInvariant()}";

    /// <summary>The rule that masks a packet's fields to the tuple's key and looks it up.</summary>
    public static string Rule(NftTuple tuple, string hit)
    {
        var outward = tuple.Path is TuplePath.Out or TuplePath.Host;
        var key = new List<string> { outward ? "iifname" : "oifname" };
        if (tuple.HasProtocol)
        {
            key.Add("meta l4proto");
        }

        if (tuple.PortPrefix > 0)
        {
            key.Add(tuple.PortPrefix == 16 ? "th dport" : $"th dport & 0x{Mask(16, tuple.PortPrefix):x4}");
        }

        if (tuple.HasAddress)
        {
            var side = tuple.Path == TuplePath.Out ? "daddr" : "saddr";
            var ip = tuple.Family == 4 ? "ip" : "ip6";
            var width = tuple.Family == 4 ? 32 : 128;
            key.Add(tuple.AddressPrefix == width ? $"{ip} {side}" : $"{ip} {side} & {Bits.Address(Mask(width, tuple.AddressPrefix), width)}");
        }

        return $"{string.Join(" . ", key)} @{tuple.Name} {hit}";
    }

    /// <summary>One element as nft writes it: `"ab-web" . 6 . 8080 . 203.0.113.0`.</summary>
    public static string Element(TupleElement e, TimeSpan? timeout = null)
    {
        var sb = new StringBuilder();
        sb.Append('"').Append(e.Interface).Append('"');
        if (e.Tuple.HasProtocol)
        {
            sb.Append(" . ").Append(e.Protocol.ToString(CultureInfo.InvariantCulture));
        }

        if (e.Tuple.PortPrefix > 0)
        {
            sb.Append(" . ").Append(e.Port.ToString(CultureInfo.InvariantCulture));
        }

        if (e.Tuple.HasAddress)
        {
            sb.Append(" . ").Append(Bits.Address(e.Address, e.Tuple.Family == 4 ? 32 : 128));
        }

        if (timeout is { } t)
        {
            sb.Append(" timeout ").Append(((int)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture)).Append('s');
        }

        return sb.ToString();
    }

    /// <summary>`add element` statements, one per set, for elements of one table.</summary>
    public static IEnumerable<string> AddElements(string family, string table, IEnumerable<TupleElement> elements) =>
        elements.GroupBy(e => e.Tuple.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"add element {family} {table} {g.Key} {{ {string.Join(", ", g.Select(e => Element(e)))} }}");

    private static string KeyType(NftTuple tuple)
    {
        var types = new List<string> { "ifname" };
        if (tuple.HasProtocol)
        {
            types.Add("inet_proto");
        }

        if (tuple.PortPrefix > 0)
        {
            types.Add("inet_service");
        }

        if (tuple.HasAddress)
        {
            types.Add(tuple.Family == 4 ? "ipv4_addr" : "ipv6_addr");
        }

        return string.Join(" . ", types);
    }

    private static UInt128 Mask(int width, int prefix) => Bits.Mask(Bits.Max(width), width, prefix);
}
