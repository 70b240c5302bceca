using System.Collections.Immutable;
using System.Text;
using ArcBox.Netfilter.Wire;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// The tuple layout as nf_tables operations, from the same records <see cref="TupleRenderer"/> writes as text: the
/// set of a tuple, the rule that looks it up, and elements as key bytes. No text is parsed on the way. A key is a
/// concatenation whose fields each take a multiple of 4 bytes (nft's 32-bit registers); nft --debug=netlink shows
/// the same expressions for the same rule text.
/// </summary>
public static class TupleWire
{
    // nft's datatype ids (src/datatype.h) and key lengths.
    private const uint TypeIfName = 41;
    private const uint TypeInetProto = 12;
    private const uint TypeInetService = 13;
    private const uint TypeIpv4 = 7;
    private const uint TypeIpv6 = 8;
    private const int IfNameSize = 16;
    private const int NfprotoIpv4 = 2;
    private const int NfprotoIpv6 = 10;

    public static WireAddSet Set(NftTuple tuple)
    {
        var fields = Fields(tuple);
        var type = fields.Aggregate(0u, (id, f) => (id << 6) | f.Type);
        var length = fields.Count == 1 ? (uint)fields[0].Length : (uint)fields.Sum(f => (f.Length + 3) & ~3);
        var flags = tuple.Layer is TupleLayer.Learnt or TupleLayer.LearntAnyProtocol ? WireAddSet.FlagTimeout : 0;
        return new WireAddSet("inet", tuple.Name, type, length, flags, Counter: true, HostOrderKey: fields.Count == 1);
    }

    /// <summary>The rule of <see cref="TupleRenderer.Rule"/>: load and mask the key's fields, look them up, then
    /// <paramref name="hit"/>. A field of the IPv4 or IPv6 header needs nft's protocol check first.</summary>
    public static WireAddRule Rule(NftTuple tuple, string chain, Verdict hit)
    {
        var e = ImmutableArray.CreateBuilder<NftExpression>();
        if (tuple.HasAddress)
        {
            e.Add(new MetaLoad(MetaLoad.NfProto));
            e.Add(new Compare(Compare.Eq, [tuple.Family == 4 ? (byte)NfprotoIpv4 : (byte)NfprotoIpv6]));
        }

        var outward = tuple.Path is TuplePath.Out or TuplePath.Host;
        e.Add(new MetaLoad(outward ? MetaLoad.IifName : MetaLoad.OifName, Registers.At(0)));
        var unit = IfNameSize / 4;
        if (tuple.HasProtocol)
        {
            e.Add(new MetaLoad(MetaLoad.L4Proto, Registers.At(unit++)));
        }

        if (tuple.PortPrefix > 0)
        {
            var register = Registers.At(unit++);
            e.Add(new PayloadLoad(PayloadLoad.Transport, 2, 2, register));
            if (tuple.PortPrefix < 16)
            {
                e.Add(new Bitwise(Mask(16, tuple.PortPrefix), new byte[2].ToImmutableArray(), register));
            }
        }

        if (tuple.HasAddress)
        {
            var width = tuple.Family == 4 ? 32 : 128;
            var destination = tuple.Path == TuplePath.Out;
            var offset = tuple.Family == 4 ? (destination ? 16u : 12u) : (destination ? 24u : 8u);
            var register = Registers.At(unit);
            e.Add(new PayloadLoad(PayloadLoad.Network, offset, (uint)width / 8, register));
            if (tuple.AddressPrefix < width)
            {
                e.Add(new Bitwise(Mask(width, tuple.AddressPrefix), new byte[width / 8].ToImmutableArray(), register));
            }
        }

        e.Add(new Lookup(tuple.Name, false));
        e.Add(hit);
        return new WireAddRule("inet", chain, e.ToImmutable(), null);
    }

    /// <summary>The dispatch rule as nft sends it: protocol check, the address into register 1, the interval-set
    /// lookup, the goto.</summary>
    public static WireAddRule Rule(DispatchRule rule)
    {
        var v4 = rule.Family == 4;
        var destination = rule.Path == TuplePath.Out;
        var offset = v4 ? (destination ? 16u : 12u) : (destination ? 24u : 8u);
        return new WireAddRule("inet", rule.Chain,
        [
            new MetaLoad(MetaLoad.NfProto),
            new Compare(Compare.Eq, [v4 ? (byte)NfprotoIpv4 : (byte)NfprotoIpv6]),
            new PayloadLoad(PayloadLoad.Network, offset, v4 ? 4u : 16u),
            new Lookup(rule.Set, false),
            new Verdict(Verdict.Goto, rule.Target),
        ], null);
    }

    /// <summary>
    /// A delta as one batch, given the layout after it: new sets, the changed chains flushed and written again in
    /// lookup order (dispatch rules first), element deletes, then adds, then the sets no longer used.
    /// </summary>
    /// <param name="counted">Deleted elements whose last counters the caller wants (their rule stays: its counter
    /// goes on); their deletes ask for the kernel's echo (<c>NftNetlink.CommitCountingDeletes</c>).</param>
    public static IEnumerable<WireOperation> Operations(TupleDelta delta, IEnumerable<NftTuple> shapes, bool dualStack, Func<TuplePath, Verdict> hit, Func<TupleElement, bool>? counted = null)
    {
        foreach (var tuple in delta.NewShapes)
        {
            yield return Set(tuple);
        }

        var ordered = shapes.Order(Comparer<NftTuple>.Create(NftTuple.Compare)).ToList();
        foreach (var chain in delta.Chains)
        {
            yield return new WireFlushChain("inet", chain);
            foreach (var path in Enum.GetValues<TuplePath>())
            {
                foreach (var dispatch in DispatchRule.Of(path, dualStack).Where(d => d.Chain == chain))
                {
                    yield return Rule(dispatch);
                }
            }

            foreach (var tuple in ordered.Where(t => TupleRenderer.ChainOf(t) == chain))
            {
                yield return Rule(tuple, chain, hit(tuple.Path));
            }
        }

        var gone = delta.GoneShapes.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var deletes = delta.Delete.Where(e => !gone.Contains(e.Tuple.Name) || counted?.Invoke(e) == true).ToList();
        foreach (var op in Elements(deletes.Where(e => counted?.Invoke(e) != true), delete: true))
        {
            yield return op;
        }

        foreach (var op in Elements(deletes.Where(e => counted?.Invoke(e) == true), delete: true))
        {
            yield return op with { Echo = true };
        }

        var timeouts = delta.Add.ToDictionary(a => a.Element, a => a.Timeout);
        foreach (var op in Elements(delta.Add.Select(a => a.Element), delete: false, e => timeouts[e]))
        {
            yield return op;
        }

        foreach (var tuple in delta.GoneShapes)
        {
            yield return new WireDeleteSet("inet", tuple.Name);
        }
    }

    /// <summary>Adds or deletes elements, one operation per set; <paramref name="timeout"/> for learnt ones.</summary>
    public static IEnumerable<WireElements> Elements(IEnumerable<TupleElement> elements, bool delete, Func<TupleElement, TimeSpan?>? timeout = null) =>
        elements.GroupBy(e => e.Tuple.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            new WireElements("inet", g.Key, delete, [.. g.Select(e => new WireElement(Key(e), TimeoutMilliseconds: timeout?.Invoke(e) is { } t ? (ulong)Math.Ceiling(t.TotalSeconds) * 1000 : null))]));

    /// <summary>The element's key bytes: each field in network order, padded to 4 bytes in a concatenation.</summary>
    public static ImmutableArray<byte> Key(TupleElement e)
    {
        var fields = Fields(e.Tuple);
        var bytes = new List<byte>();
        foreach (var (type, length) in fields)
        {
            var field = type switch
            {
                TypeIfName => IfName(e.Interface),
                TypeInetProto => [e.Protocol],
                TypeInetService => [(byte)(e.Port >> 8), (byte)e.Port],
                _ => Bits.Address(e.Address, length * 8).GetAddressBytes(),
            };
            bytes.AddRange(field);
            if (fields.Count > 1)
            {
                bytes.AddRange(new byte[((length + 3) & ~3) - length]);
            }
        }

        return [.. bytes];
    }

    private static List<(uint Type, int Length)> Fields(NftTuple tuple)
    {
        var fields = new List<(uint, int)> { (TypeIfName, IfNameSize) };
        if (tuple.HasProtocol)
        {
            fields.Add((TypeInetProto, 1));
        }

        if (tuple.PortPrefix > 0)
        {
            fields.Add((TypeInetService, 2));
        }

        if (tuple.HasAddress)
        {
            fields.Add(tuple.Family == 4 ? (TypeIpv4, 4) : (TypeIpv6, 16));
        }

        return fields;
    }

    private static byte[] IfName(string name)
    {
        var bytes = new byte[IfNameSize];
        var text = Encoding.ASCII.GetBytes(name);
        if (text.Length >= IfNameSize)
        {
            throw new ArgumentException($"interface name '{name}' is longer than {IfNameSize - 1} bytes", nameof(name));
        }

        text.CopyTo(bytes, 0);
        return bytes;
    }

    private static ImmutableArray<byte> Mask(int width, int prefix)
    {
        var mask = Bits.Mask(Bits.Max(width), width, prefix);
        var bytes = new byte[width / 8];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(mask & 0xff);
            mask >>= 8;
        }

        return [.. bytes];
    }
}
