using System.Globalization;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// One shape of key, and so one hash map and one base-chain rule: the path, the layer, the address family of the key
/// (0 when the key has no address) and how many leading bits of the port and of the address the key keeps. A key
/// with a port prefix of 0 has no port field, and one of layer AnyProtocol or AddressAnyProtocol has no protocol.
/// A tuple with an address belongs to one <see cref="AddressRegion"/> and is looked up only for peers in it.
/// </summary>
public sealed record NftTuple(TuplePath Path, TupleLayer Layer, int Family, int PortPrefix, int AddressPrefix, AddressRegion Region = AddressRegion.Public)
{
    public bool HasProtocol => Layer is not (TupleLayer.LearntAnyProtocol or TupleLayer.AddressAnyProtocol or TupleLayer.AnyProtocol);

    public bool HasAddress => Layer is TupleLayer.Learnt or TupleLayer.LearntAnyProtocol or TupleLayer.Address or TupleLayer.AddressAnyProtocol;

    /// <summary>The map's name: "out4_p16_a24", "out_any", "host_p16", "out6_learnt_p16".</summary>
    public string Name
    {
        get
        {
            var path = Path switch
            {
                TuplePath.Out => "out",
                TuplePath.In => "in",
                TuplePath.Host => "host",
                _ => "hostin",
            };
            var family = !HasAddress ? "" : Family.ToString(CultureInfo.InvariantCulture) + Region switch
            {
                AddressRegion.Private => "p",
                AddressRegion.Guarded => "g",
                _ => "",
            };
            return Layer switch
            {
                TupleLayer.Learnt => $"{path}{family}_learnt_p{PortPrefix}",
                TupleLayer.LearntAnyProtocol => $"{path}{family}_learnt_any",
                TupleLayer.Address => $"{path}{family}_p{PortPrefix}_a{AddressPrefix}",
                TupleLayer.AddressAnyProtocol => $"{path}{family}_any_a{AddressPrefix}",
                TupleLayer.Service => $"{path}_p{PortPrefix}",
                _ => $"{path}_any",
            };
        }
    }

    /// <summary>The order of the base chains' lookups within a region: by layer, then longer prefixes first (only layers
    /// overlap).</summary>
    public static int Compare(NftTuple a, NftTuple b)
    {
        var c = a.Path.CompareTo(b.Path);
        c = c != 0 ? c : a.Region.CompareTo(b.Region);
        c = c != 0 ? c : a.Layer.CompareTo(b.Layer);
        c = c != 0 ? c : a.Family.CompareTo(b.Family);
        c = c != 0 ? c : b.AddressPrefix.CompareTo(a.AddressPrefix);
        return c != 0 ? c : b.PortPrefix.CompareTo(a.PortPrefix);
    }
}
