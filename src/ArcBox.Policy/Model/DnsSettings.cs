using System.Collections.Immutable;
using System.Net;

namespace ArcBox.Policy.Model;

/// <param name="Resolve">Name patterns this sandbox may resolve upstream; empty means "derived from the domains rules".</param>
/// <param name="Upstream">Resolvers for this sandbox; empty means the daemon's.</param>
public sealed record DnsSettings(ImmutableArray<DnsRecord> Records, ImmutableArray<DomainPattern> Resolve, ImmutableArray<IPEndPoint> Upstream)
{
    public static readonly DnsSettings Empty = new([], [], []);
}
