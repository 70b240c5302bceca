using System.Collections.Concurrent;
using ARSoft.Tools.Net.Dns;

namespace ArcBox.Dns.Server;

/// <summary>
/// Upstream answers, shared by every sandbox that uses the same upstreams: what a sandbox may see is decided
/// before the cache (refusals), and what its firewall admits after it, from the remaining TTL. Bounded.
/// </summary>
internal sealed class AnswerCache(int capacity, TimeProvider time)
{
    private const int MaxTtl = 300;
    private const int NegativeTtl = 5;
    private readonly ConcurrentDictionary<(string Upstreams, string Name, RecordType Type), CachedAnswer> entries = new();

    /// <summary>The cached answer and its records with every TTL reduced by its age; null when absent or expired.</summary>
    public (CachedAnswer Entry, List<DnsRecordBase> Records)? Get(string upstreams, string name, RecordType type)
    {
        if (!entries.TryGetValue((upstreams, name, type), out var entry))
        {
            return null;
        }

        var age = entry.Age(time);
        if (age >= entry.Ttl)
        {
            entries.TryRemove((upstreams, name, type), out _);
            return null;
        }

        // Within the first second the stored records are exact; later each TTL counts down.
        return (entry, age == 0 ? entry.Records : [.. entry.Records.Select(r => Aged(r, age))]);
    }

    /// <summary>Stores an upstream answer; returns the entry, or null when the answer is not cacheable.</summary>
    public CachedAnswer? Put(string upstreams, string name, RecordType type, ReturnCode code, IReadOnlyList<DnsRecordBase> records)
    {
        if (code is not (ReturnCode.NoError or ReturnCode.NxDomain))
        {
            return null;
        }

        var ttl = records.Count == 0 ? NegativeTtl : Math.Min(MaxTtl, records.Min(r => r.TimeToLive));
        if (ttl <= 0)
        {
            return null;
        }

        if (entries.Count >= capacity)
        {
            // Crude but bounded: drop an arbitrary tenth; the next queries refill what matters.
            foreach (var key in entries.Keys.Take(Math.Max(1, capacity / 10)))
            {
                entries.TryRemove(key, out _);
            }
        }

        var entry = new CachedAnswer(code, [.. records], ttl, time.GetTimestamp());
        entries[(upstreams, name, type)] = entry;
        return entry;
    }

    /// <summary>Whether <see cref="Get"/> counts a record's TTL down (and the resolver clamps it to its maximum).</summary>
    public static bool Ages(DnsRecordBase r) => r is ARecord or AaaaRecord or CNameRecord;

    /// <summary>A TTL <paramref name="age"/> seconds after it was stored, as <see cref="Get"/> reports it.</summary>
    public static int AgedTtl(int stored, int age) => Math.Max(1, stored - age);

    private static DnsRecordBase Aged(DnsRecordBase r, int age)
    {
        var ttl = AgedTtl(r.TimeToLive, age);
        return r switch
        {
            ARecord a => new ARecord(a.Name, ttl, a.Address),
            AaaaRecord a => new AaaaRecord(a.Name, ttl, a.Address),
            CNameRecord c => new CNameRecord(c.Name, ttl, c.CanonicalName),
            _ => r,
        };
    }
}
