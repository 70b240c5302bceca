using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace ArcBox.Dns.Lookup;

/// <param name="Records">Local answers, CNAMEs included, in order.</param>
/// <param name="ForwardName">For <see cref="LookupOutcome.Forward"/>: the name to ask upstream (the end of a local CNAME chain).</param>
public sealed record LookupResult(LookupOutcome Outcome, IReadOnlyList<DnsRecordBase> Records, DomainName? ForwardName = null)
{
    public static LookupResult Refused { get; } = new(LookupOutcome.Refused, []);

    public static LookupResult NxDomain { get; } = new(LookupOutcome.NxDomain, []);
}
