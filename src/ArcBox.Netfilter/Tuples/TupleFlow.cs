using System.Net;
using System.Net.Sockets;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using L4 = ArcBox.Policy.Model.Protocol;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// Where the kernel takes a flow of a sandbox and what its lookups see: DNS goes to the host whatever its destination
/// (the redirect), the host's addresses to the input and output hooks, the rest through forward; ICMP has no port.
/// </summary>
public readonly record struct TupleFlow(TuplePath Path, byte Protocol, int Port, IPAddress? Peer)
{
    /// <summary>Null when the guard drops the packet before any lookup: IPv6 on an IPv4-only network.</summary>
    public static TupleFlow? Of(NetworkView network, Flow flow)
    {
        var v6 = flow.Peer.AddressFamily == AddressFamily.InterNetworkV6;
        if (v6 && !network.DualStack)
        {
            return null;
        }

        var protocol = flow.Protocol switch
        {
            L4.Tcp => ServiceAtom.Tcp,
            L4.Udp => ServiceAtom.Udp,
            _ => v6 ? ServiceAtom.Icmp6 : ServiceAtom.Icmp,
        };
        var port = flow.Protocol == L4.Icmp ? 0 : flow.Port;
        var outbound = flow.Direction == Direction.Outbound;
        if (outbound && flow.Protocol != L4.Icmp && port == 53)
        {
            return new TupleFlow(TuplePath.Host, protocol, port, null);
        }

        return network.Classify(flow.Peer).Kind == AddressKind.Host
            ? new TupleFlow(outbound ? TuplePath.Host : TuplePath.HostIn, protocol, port, null)
            : new TupleFlow(outbound ? TuplePath.Out : TuplePath.In, protocol, port, flow.Peer);
    }
}
