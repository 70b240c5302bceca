using System.Net;
using ArcBox.Policy.Model;

namespace ArcBox.Policy.Evaluation;

/// <summary>A new connection seen from one sandbox.</summary>
/// <param name="Protocol">Tcp, Udp or Icmp (a flow has a concrete protocol).</param>
/// <param name="Peer">The destination of an outbound flow, the source of an inbound one.</param>
/// <param name="Port">The destination port (the sandbox's own port for inbound); ignored for ICMP.</param>
/// <param name="Domain">The name the peer address was resolved from, for outbound domain rules.</param>
public sealed record Flow(Direction Direction, Protocol Protocol, IPAddress Peer, int Port, string? Domain = null)
{
    public override string ToString() => Protocol == Protocol.Icmp
        ? $"{Direction} icmp {Peer}"
        : $"{Direction} {Protocol.ToString().ToLowerInvariant()} {Peer} port {Port}";
}
