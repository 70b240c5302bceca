using System.Collections.Immutable;
using System.Net;

namespace ArcBox.Policy.Model;

/// <summary>
/// A custom record in a sandbox's DNS view. Exactly one of <see cref="Addresses"/> (A/AAAA),
/// <see cref="Cname"/> or <see cref="Txt"/> is set.
/// </summary>
public sealed record DnsRecord(DomainPattern Name, ImmutableArray<IPAddress> Addresses, string? Cname, string? Txt, SourceLocation Location)
{
    public string Kind => Cname is not null ? "CNAME" : Txt is not null ? "TXT" : "A/AAAA";
}
