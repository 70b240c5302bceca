using ArcBox.Daemon.Sandboxes;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Counters;

namespace ArcBox.Daemon.Stats;

/// <summary>Counters of every sandbox for `stats`, `top` and Prometheus: per rule from our table, and per link.</summary>
public sealed class StatsService(NetworkConfig network, RouteNetlink host, Func<SandboxTable> table) : IDisposable
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
        var current = table();
        if (name is not null)
        {
            current.Get(name);
            return Read(name, current);
        }

        // Every reader of all counters within a second shares one read (top, scrapes, a flood of them), so
        // readers cost the kernel and the daemon at most one dump per second.
        lock (statsGate)
        {
            if (statsCache is { } cached && DateTimeOffset.UtcNow - cached[0].Time < TimeSpan.FromSeconds(1) && cached.Count == current.Count)
            {
                return cached;
            }

            var fresh = Read(null, current);
            statsCache = fresh.Count > 0 ? fresh : null;
            return fresh;
        }
    }

    private IReadOnlyList<SandboxStats> Read(string? name, SandboxTable current)
    {
        var counted = counterReader.Value.Rules(network.Table)
            .Select(r => new CountedRule(r.Chain, r.Comment, (long)r.Packets, (long)r.Bytes, r.Verdict switch { 0 => "drop", 1 or -5 => "allow", _ => null }));
        var links = host.LinkCounters();
        var now = DateTimeOffset.UtcNow;
        var rules = RuleCounters.Aggregate(counted, name).ToLookup(c => c.Sandbox, StringComparer.Ordinal);
        return [.. (name is null ? [.. current.Names.Order(StringComparer.Ordinal)] : new List<string> { name })
            .Select(n => Summarize(n, now, current.Find(n) is { } s ? links.GetValueOrDefault(s.Record.Interface) : null, [.. rules[n]]))];
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

    public void Dispose()
    {
        if (counterReader.IsValueCreated)
        {
            counterReader.Value.Dispose();
        }
    }
}
