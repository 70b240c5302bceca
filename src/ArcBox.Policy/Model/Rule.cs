using System.Collections.Immutable;

namespace ArcBox.Policy.Model;

/// <summary>
/// One allow rule. <see cref="Id"/> ("outbound[0]", "inbound[1]") is stable for the policy's life and
/// names the rule in explain output, counters and flow logs.
/// </summary>
/// <param name="Ports">Empty means every port.</param>
/// <param name="Targets">Destinations (outbound) or sources (inbound). An outbound rule with neither
/// targets nor domains, or an inbound rule without targets, is given <see cref="Target.Internet"/> by the parser.</param>
public sealed record Rule(
    string Id,
    Direction Direction,
    Protocol Protocol,
    ImmutableArray<PortRange> Ports,
    ImmutableArray<Target> Targets,
    ImmutableArray<DomainPattern> Domains,
    SourceLocation Location)
{
    public bool HasPorts => !Ports.IsEmpty;

    /// <summary>Whether this rule admits traffic of <paramref name="protocol"/> (tcp, udp or icmp) to <paramref name="port"/>.</summary>
    public bool MatchesService(Protocol protocol, int port)
    {
        switch (Protocol)
        {
            case Protocol.Any when !HasPorts:
                return true;
            case Protocol.Any:
                // "any" with ports means the protocols that have ports.
                return (protocol is Protocol.Tcp or Protocol.Udp) && PortsContain(port);
            case Protocol.Icmp:
                return protocol == Protocol.Icmp;
            default:
                return protocol == Protocol && (!HasPorts || PortsContain(port));
        }
    }

    private bool PortsContain(int port)
    {
        foreach (var range in Ports)
        {
            if (range.Contains(port))
            {
                return true;
            }
        }

        return false;
    }
}
