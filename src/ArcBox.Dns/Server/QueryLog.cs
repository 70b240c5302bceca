using System.Collections.Concurrent;

namespace ArcBox.Dns.Server;

/// <summary>The last N queries of each sandbox: bounded, so memory does not grow with traffic.</summary>
public sealed class QueryLog(int capacity)
{
    private readonly ConcurrentDictionary<string, Queue<QueryLogEntry>> rings = new(StringComparer.Ordinal);
    private long sequence;

    /// <summary>The sequence number of the newest entry (entries are numbered from 1 as they are added).</summary>
    public long Last => Interlocked.Read(ref sequence);

    public void Add(QueryLogEntry entry)
    {
        var ring = rings.GetOrAdd(entry.Sandbox, _ => new Queue<QueryLogEntry>());
        lock (ring)
        {
            entry.Sequence = Interlocked.Increment(ref sequence);
            ring.Enqueue(entry);
            while (ring.Count > capacity)
            {
                ring.Dequeue();
            }
        }
    }

    public IReadOnlyList<QueryLogEntry> For(string sandbox)
    {
        if (!rings.TryGetValue(sandbox, out var ring))
        {
            return [];
        }

        lock (ring)
        {
            return [.. ring];
        }
    }

    public void Forget(string sandbox) => rings.TryRemove(sandbox, out _);
}
