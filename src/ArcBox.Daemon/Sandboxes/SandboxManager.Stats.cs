using ArcBox.Linux.Netlink;
using ArcBox.Netfilter.Counters;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>Packets and bytes one sandbox's rules counted, per direction and verdict.</summary>
public sealed record TrafficTotals(long Packets, long Bytes);

/// <summary>
/// A sandbox's counters. Sent and Received are all its traffic, from its host-side link's counters (sent: what the
/// sandbox sent, arriving on that link). The per-rule counters count what reached the sandbox's chains: the
/// packets that open a connection (established traffic is accepted before them), and every dropped packet.
/// </summary>
public sealed record SandboxStats(
    string Name,
    DateTimeOffset Time,
    TrafficTotals Sent,
    TrafficTotals Received,
    TrafficTotals OutAllowed,
    TrafficTotals OutDropped,
    TrafficTotals InAllowed,
    TrafficTotals InDropped,
    IReadOnlyList<RuleCounter> Rules);

public sealed partial class SandboxManager
{
    private readonly Lock statsGate = new();
    private IReadOnlyList<SandboxStats>? statsCache;
    private readonly Lazy<NftRuleDump> counterReader = new(NftRuleDump.Open, LazyThreadSafetyMode.PublicationOnly);

    /// <summary>
    /// The kernel's counters, read in one netlink dump of our table's rules (not through libnftables, whose cache
    /// must not be disturbed and whose listing is ten times slower) and one dump of the links. Counters of a
    /// sandbox restart at zero when its policy is swapped (its rules are new rules).
    /// </summary>
    public IReadOnlyList<SandboxStats> Stats(string? name = null)
    {
        if (name is not null)
        {
            Get(name);
            return Read(name);
        }

        // Every reader of all counters within a second shares one read (top, scrapes, a flood of them), so
        // readers cost the kernel and the daemon at most one dump per second.
        lock (statsGate)
        {
            if (statsCache is { } cached && DateTimeOffset.UtcNow - cached[0].Time < TimeSpan.FromSeconds(1) && cached.Count == records.Count)
            {
                return cached;
            }

            var fresh = Read(null);
            statsCache = fresh.Count > 0 ? fresh : null;
            return fresh;
        }
    }

    private IReadOnlyList<SandboxStats> Read(string? name)
    {
        var counted = counterReader.Value.Rules(network.Table)
            .Select(r => new CountedRule(r.Chain, r.Comment, (long)r.Packets, (long)r.Bytes, r.Verdict switch { 0 => "drop", 1 or -5 => "allow", _ => null }));
        var links = host.LinkCounters();
        var now = DateTimeOffset.UtcNow;
        var rules = RuleCounters.Aggregate(counted, name).ToLookup(c => c.Sandbox, StringComparer.Ordinal);
        return [.. (name is null ? [.. records.Keys.Order(StringComparer.Ordinal)] : new List<string> { name })
            .Select(n => Summarize(n, now, records.TryGetValue(n, out var r) ? links.GetValueOrDefault(r.Interface) : null, [.. rules[n]]))];
    }

    private static SandboxStats Summarize(string name, DateTimeOffset now, ArcBox.Linux.Netlink.LinkCounters? link, List<RuleCounter> rules)
    {
        TrafficTotals Sum(string direction, string verdict)
        {
            var matching = rules.Where(r => r.Direction == direction && r.Verdict == verdict).ToList();
            return new TrafficTotals(matching.Sum(r => r.Packets), matching.Sum(r => r.Bytes));
        }

        var sent = new TrafficTotals((long)(link?.RxPackets ?? 0), (long)(link?.RxBytes ?? 0));
        var received = new TrafficTotals((long)(link?.TxPackets ?? 0), (long)(link?.TxBytes ?? 0));
        return new SandboxStats(name, now, sent, received, Sum("out", "allow"), Sum("out", "drop"), Sum("in", "allow"), Sum("in", "drop"), rules);
    }
}
