using System.Collections.Concurrent;
using System.Diagnostics;
using ARSoft.Tools.Net.Dns;

namespace ArcBox.Dns.Server;

/// <summary>
/// Upstream answers, shared by every sandbox that uses the same upstreams: what a sandbox may see is decided
/// before the cache (refusals), and what its firewall admits after it, from the remaining TTL. Bounded.
/// </summary>
internal sealed class AnswerCache(int capacity)
{
    private const int MaxTtl = 300;
    private const int NegativeTtl = 5;
    private readonly ConcurrentDictionary<(string Upstreams, string Name, RecordType Type), Entry> entries = new();

    /// <summary>A cached answer with every record's TTL reduced by its age; null when absent or expired.</summary>
    public (ReturnCode Code, List<DnsRecordBase> Records)? Get(string upstreams, string name, RecordType type)
    {
        if (!entries.TryGetValue((upstreams, name, type), out var entry))
        {
            return null;
        }

        var age = (int)Stopwatch.GetElapsedTime(entry.Stored).TotalSeconds;
        if (age >= entry.Ttl)
        {
            entries.TryRemove((upstreams, name, type), out _);
            return null;
        }

        // Within the first second the stored records are exact; later each TTL counts down.
        return (entry.Code, age == 0 ? entry.Records : [.. entry.Records.Select(r => Aged(r, age))]);
    }

    public void Put(string upstreams, string name, RecordType type, ReturnCode code, IReadOnlyList<DnsRecordBase> records)
    {
        if (code is not (ReturnCode.NoError or ReturnCode.NxDomain))
        {
            return;
        }

        var ttl = records.Count == 0 ? NegativeTtl : Math.Min(MaxTtl, records.Min(r => r.TimeToLive));
        if (ttl <= 0)
        {
            return;
        }

        if (entries.Count >= capacity)
        {
            // Crude but bounded: drop an arbitrary tenth; the next queries refill what matters.
            foreach (var key in entries.Keys.Take(Math.Max(1, capacity / 10)))
            {
                entries.TryRemove(key, out _);
            }
        }

        entries[(upstreams, name, type)] = new Entry(code, [.. records], ttl, Stopwatch.GetTimestamp());
    }

    private static DnsRecordBase Aged(DnsRecordBase r, int age)
    {
        var ttl = Math.Max(1, r.TimeToLive - age);
        return r switch
        {
            ARecord a => new ARecord(a.Name, ttl, a.Address),
            AaaaRecord a => new AaaaRecord(a.Name, ttl, a.Address),
            CNameRecord c => new CNameRecord(c.Name, ttl, c.CanonicalName),
            _ => r,
        };
    }

    private sealed record Entry(ReturnCode Code, List<DnsRecordBase> Records, int Ttl, long Stored);
}
