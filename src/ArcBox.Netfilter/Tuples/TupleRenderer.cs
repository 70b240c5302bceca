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
    /// <summary>The set that holds a tuple's elements.</summary>
    public static string Declaration(NftTuple tuple)
    {
        var flags = tuple.Layer is TupleLayer.Learnt or TupleLayer.LearntAnyProtocol ? " flags timeout;" : "";
        return $"set {tuple.Name} {{ type {KeyType(tuple)};{flags} counter; }}";
    }

    /// <summary>
    /// The base-chain rules that look the tuple up, in the order of <see cref="NftTuple.Compare"/>: `then` is the
    /// statement of a hit ("goto out_allowed"). Addressless tuples of a forward path sit behind the internet guard,
    /// the base table's `nonpublic4`/`nonpublic6` sets (non-public ranges and the network's subnets).
    /// </summary>
    public static IEnumerable<string> Rules(NftTuple tuple, string then, string guard4 = "nonpublic4", string guard6 = "nonpublic6")
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

        var side = tuple.Path == TuplePath.Out ? "daddr" : "saddr";
        if (tuple.HasAddress)
        {
            var ip = tuple.Family == 4 ? "ip" : "ip6";
            var width = tuple.Family == 4 ? 32 : 128;
            key.Add(tuple.AddressPrefix == width ? $"{ip} {side}" : $"{ip} {side} & {Bits.Address(Mask(width, tuple.AddressPrefix), width)}");
        }

        var lookup = $"{string.Join(" . ", key)} @{tuple.Name} {then}";
        if (tuple.HasAddress || tuple.Path is TuplePath.Host or TuplePath.HostIn)
        {
            yield return lookup;
            yield break;
        }

        yield return $"ip {side} != @{guard4} {lookup}";
        yield return $"ip6 {side} != @{guard6} {lookup}";
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
