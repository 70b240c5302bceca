using System.Net;

namespace ArcBox.Dns.Server;

/// <summary>How the resolver behaves; from the daemon's config.</summary>
/// <param name="Upstreams">Resolvers for sandboxes whose policy names none (default: the host's resolv.conf).</param>
/// <param name="UpstreamTimeout">How long to wait for an upstream before answering SERVFAIL (clients retry after 1-5 s).</param>
/// <param name="MinTtl">Addresses admitted for domains rules stay at least this long ...</param>
/// <param name="MaxTtl">... and at most this long, whatever the record's TTL says.</param>
/// <param name="QueriesPerSecond">Per-sandbox rate; a burst of twice as many is allowed.</param>
/// <param name="LogSize">Queries kept per sandbox for `arcbox logs --dns`.</param>
public sealed record DnsSettings(
    IReadOnlyList<IPEndPoint> Upstreams,
    TimeSpan UpstreamTimeout,
    int MinTtl,
    int MaxTtl,
    int QueriesPerSecond,
    int LogSize)
{
    public static DnsSettings Default { get; } = new(ResolvConf.Nameservers(), TimeSpan.FromSeconds(2), 30, 3600, 200, 1000);
}
