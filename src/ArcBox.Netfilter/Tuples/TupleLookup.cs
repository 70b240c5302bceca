using System.Net.Sockets;
using ArcBox.Policy.Evaluation;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// What the base chains do with a packet, as plain code: one hash lookup per tuple in use, in
/// <see cref="NftTuple.Compare"/> order, the addressless layers of the forward paths behind the internet guard, and
/// the first hit decides. The kernel runs the same lookups; tests hold this model against the evaluator, and the
/// kernel against both.
/// </summary>
public sealed class TupleLookup
{
    private readonly NetworkView network;
    private readonly List<NftTuple> order;
    private readonly Dictionary<(NftTuple, string, byte, ushort, UInt128), string> keys = [];

    public TupleLookup(NetworkView network, IEnumerable<TupleElement> elements)
    {
        this.network = network;
        foreach (var e in elements)
        {
            if (!keys.TryAdd((e.Tuple, e.Interface, e.Protocol, e.Port, e.Address), e.RuleId))
            {
                throw new ArgumentException($"two elements with one key in {e.Tuple.Name}: {e}", nameof(elements));
            }
        }

        order = [.. keys.Keys.Select(k => k.Item1).Distinct()];
        order.Sort(NftTuple.Compare);
    }

    /// <summary>The rule that admits the packet, or null for the default deny. <paramref name="address"/> is the
    /// peer (destination on Out, source on In); the host paths have none.</summary>
    public string? Decide(string iface, TuplePath path, byte protocol, int port, System.Net.IPAddress? address)
    {
        var family = address is null ? 0 : address.AddressFamily == AddressFamily.InterNetwork ? 4 : 6;
        var a = address is null ? 0 : Bits.Of(address);
        var forward = path is TuplePath.Out or TuplePath.In;
        var space = address is null ? null : new AddressSpace(network, address.AddressFamily);
        var guardAdmits = forward && space is not null && space.IsPublic(a);
        var region = space?.RegionOf(a);
        foreach (var tuple in order)
        {
            // A peer's region chain holds only that region's tuples; the addressless layers follow the public ones.
            if (tuple.Path != path || (tuple.HasAddress && (tuple.Family != family || tuple.Region != region)) || (!tuple.HasAddress && forward && !guardAdmits))
            {
                continue;
            }

            var keyPort = tuple.PortPrefix == 0 ? (ushort)0 : (ushort)Bits.Mask((UInt128)port, 16, tuple.PortPrefix);
            var keyAddress = tuple.HasAddress ? Bits.Mask(a, family == 4 ? 32 : 128, tuple.AddressPrefix) : 0;
            if (keys.TryGetValue((tuple, iface, tuple.HasProtocol ? protocol : (byte)0, keyPort, keyAddress), out var rule))
            {
                return rule;
            }
        }

        return null;
    }
}
