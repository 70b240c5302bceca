using System.Collections.Immutable;
using System.Net;

namespace ArcBox.Dns.Lookup;

/// <summary>
/// Everything the resolver needs, immutable: swapped whole when a sandbox or a policy changes, so a query always
/// sees one consistent state and the next query sees the change.
/// </summary>
public sealed record ResolverSnapshot(
    IPAddress Gateway4,
    IPAddress? Gateway6,
    ImmutableDictionary<string, SandboxDnsView> ByName,
    ImmutableDictionary<IPAddress, SandboxDnsView> ByAddress,
    ImmutableArray<IPEndPoint> DefaultUpstreams)
{
    /// <summary>The zone of sandbox names: NAME.arcbox.internal, and host.arcbox.internal for the gateway.</summary>
    public const string Zone = "arcbox.internal";

    public static ResolverSnapshot Create(IPAddress gateway4, IPAddress? gateway6, IEnumerable<SandboxDnsView> sandboxes, IEnumerable<IPEndPoint> upstreams)
    {
        var list = sandboxes.ToList();
        var byAddress = ImmutableDictionary.CreateBuilder<IPAddress, SandboxDnsView>();
        foreach (var s in list)
        {
            byAddress[s.Addresses.Ipv4] = s;
            if (s.Addresses.Ipv6 is { } v6)
            {
                byAddress[v6] = s;
            }
        }

        return new ResolverSnapshot(gateway4, gateway6, list.ToImmutableDictionary(s => s.Name, StringComparer.Ordinal), byAddress.ToImmutable(), [.. upstreams]);
    }
}
