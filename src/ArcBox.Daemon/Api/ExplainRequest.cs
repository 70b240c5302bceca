namespace ArcBox.Daemon.Api;

/// <param name="Direction">"outbound" or "inbound".</param>
/// <param name="Protocol">"tcp", "udp" or "icmp".</param>
/// <param name="Peer">The destination (outbound) or source (inbound) address.</param>
public sealed record ExplainRequest(string? Direction, string? Protocol, string? Peer, int? Port, string? Domain);
