using System.Collections.Immutable;

namespace ArcBox.Policy.Model;

/// <summary>A validated policy. Only the parser and the built-ins create one.</summary>
public sealed record SandboxPolicy(
    ImmutableArray<Rule> Outbound,
    ImmutableArray<Rule> Inbound,
    DnsSettings Dns,
    Bandwidth? Bandwidth,
    LogMode Log,
    string Source)
{
    public IEnumerable<Rule> Rules(Direction direction) => direction == Direction.Outbound ? Outbound : Inbound;

    /// <summary>Whether DNS (53 over <paramref name="protocol"/>) is allowed, and by which rule: any outbound rule that
    /// admits that port, whatever its destination, because every DNS packet is redirected to the ArcBox resolver.</summary>
    public Rule? DnsRule(Protocol protocol)
    {
        foreach (var rule in Outbound)
        {
            if (rule.MatchesService(protocol, 53))
            {
                return rule;
            }
        }

        return null;
    }
}
