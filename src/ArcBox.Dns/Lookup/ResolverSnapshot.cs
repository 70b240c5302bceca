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

    /// <summary>This snapshot with one sandbox added or replaced: O(log n), not a rebuild.</summary>
    public ResolverSnapshot With(SandboxDnsView sandbox)
    {
        var without = Without(sandbox.Name);
        var byAddress = without.ByAddress.SetItem(sandbox.Addresses.Ipv4, sandbox);
        if (sandbox.Addresses.Ipv6 is { } v6)
        {
            byAddress = byAddress.SetItem(v6, sandbox);
        }

        return without with { ByName = without.ByName.SetItem(sandbox.Name, sandbox), ByAddress = byAddress };
    }

    public ResolverSnapshot Without(string name)
    {
        if (!ByName.TryGetValue(name, out var old))
        {
            return this;
        }

        var byAddress = ByAddress.Remove(old.Addresses.Ipv4);
        if (old.Addresses.Ipv6 is { } v6)
        {
            byAddress = byAddress.Remove(v6);
        }

        return this with { ByName = ByName.Remove(name), ByAddress = byAddress };
    }
}
