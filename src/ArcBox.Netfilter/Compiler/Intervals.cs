using System.Collections.Immutable;
using System.Net;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Compiler;

/// <summary>
/// nft refuses overlapping elements in an interval set, so ports and networks are merged before they are written.
/// </summary>
public static class Intervals
{
    public static ImmutableArray<PortRange> MergePorts(IEnumerable<PortRange> ports)
    {
        var merged = new List<PortRange>();
        foreach (var p in ports.OrderBy(p => p.First))
        {
            if (merged.Count > 0 && p.First <= merged[^1].Last + 1)
            {
                merged[^1] = merged[^1] with { Last = Math.Max(merged[^1].Last, p.Last) };
            }
            else
            {
                merged.Add(p);
            }
        }

        return [.. merged];
    }

    /// <summary>Drops networks inside others (CIDRs either nest or are disjoint) and duplicates.</summary>
    public static ImmutableArray<IPNetwork> MergeNetworks(IEnumerable<IPNetwork> networks)
    {
        var list = networks.Distinct().OrderBy(n => n.PrefixLength).ToList();
        var kept = new List<IPNetwork>();
        foreach (var n in list)
        {
            if (!kept.Any(k => k.BaseAddress.AddressFamily == n.BaseAddress.AddressFamily && k.Contains(n.BaseAddress)))
            {
                kept.Add(n);
            }
        }

        return [.. kept];
    }

    /// <summary>A host network as a plain address, others as CIDR.</summary>
    public static string Format(IPNetwork n) =>
        n.PrefixLength == (n.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128) ? n.BaseAddress.ToString() : n.ToString();
}
