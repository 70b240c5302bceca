using System.Diagnostics;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.FastPath;

namespace ArcBox.Dns.Server;

/// <summary>
/// UDP: a query in the plain form stub resolvers send, asked before under the same snapshot, is answered from the
/// response cache without parsing into objects or allocating beyond its log entry; everything else takes the
/// ARSoft.Tools.Net slow path, which fills the cache with what it may keep.
/// </summary>
public sealed partial class ResolverServer
{
    /// <summary>The fast path's state for the current snapshot, built on the first query after a change.</summary>
    internal FastPathState FastState()
    {
        var s = Volatile.Read(ref snapshot);
        var current = Volatile.Read(ref fast);
        if (current is not null && ReferenceEquals(current.Snapshot, s))
        {
            return current;
        }

        var built = new FastPathState(s, limiter, responseCacheSize);
        Interlocked.CompareExchange(ref fast, built, current);
        return built;
    }

    /// <summary>
    /// Before parsing: only sandboxes may ask, and a sandbox over its rate gets silence (its resolver retries
    /// later), so a flood costs almost nothing and other sandboxes keep their rate. Then the response cache.
    /// </summary>
    /// <param name="from">The source as a raw sockaddr.</param>
    /// <param name="response">Where an answered query's response goes; <paramref name="written"/> bytes of it.</param>
    internal Disposition Receive(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> from, Span<byte> response, out int written, out SlowQuery slow)
    {
        written = 0;
        slow = default;
        var state = FastState();
        if (!SourceKey.TryRead(from, out var source) || !state.TryFind(source, out var slot))
        {
            return Disposition.Dropped;
        }

        if (!limiter.Allow(slot.Bucket))
        {
            Interlocked.Increment(ref rateLimited);
            return Disposition.Dropped;
        }

        if (!WireQuery.TryParse(datagram, out var query))
        {
            slow = new SlowQuery(state, slot, null, default);
            return Disposition.Slow;
        }

        var started = Stopwatch.GetTimestamp();
        Span<char> key = stackalloc char[ResponseCache.MaxKey];
        key = key[..ResponseCache.WriteKey(slot.Index, query, datagram, key)];
        if (state.Cache.TryGet(key, time, out var entry, out var age))
        {
            written = ResponseWriter.Write(datagram, query, entry, age, settings.MaxTtl, response);
            if (written > 0)
            {
                var hint = entry.Hint;
                Log.Add(new QueryLogEntry(DateTimeOffset.UtcNow, slot.View.Name, hint.Name, hint.Type, hint.Verdict, hint.Records, [], Stopwatch.GetElapsedTime(started).TotalMilliseconds));
                return Disposition.Answered;
            }
        }

        slow = new SlowQuery(state, slot, new string(key), query);
        return Disposition.Slow;
    }

    /// <summary>
    /// The slow path for a datagram <see cref="Receive"/> passed on. Parses before returning (the caller reuses
    /// its buffer); the encoded response, truncated to the client's UDP size, or null to send nothing. Local
    /// answers complete inline; a sandbox with domains rules may have to wait for the firewall, so its queries
    /// continue on the thread pool and never hold up the receiving thread.
    /// </summary>
    internal ValueTask<ArraySegment<byte>?> AnswerSlow(ArraySegment<byte> datagram, SlowQuery slow)
    {
        DnsMessage query;
        try
        {
            query = DnsMessage.Parse(datagram);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Increment(ref malformed);
            return ValueTask.FromResult<ArraySegment<byte>?>(null);
        }

        if (query.Questions.Count != 1 || !query.IsQuery)
        {
            Interlocked.Increment(ref malformed);
            return ValueTask.FromResult<ArraySegment<byte>?>(null);
        }

        return slow.Slot.View.HasDomainRules
            ? new ValueTask<ArraySegment<byte>?>(Task.Run(() => AnswerSlowAsync(query, slow).AsTask()))
            : AnswerSlowAsync(query, slow);
    }

    private async ValueTask<ArraySegment<byte>?> AnswerSlowAsync(DnsMessage query, SlowQuery slow)
    {
        var (response, entry, hint) = await Answer(slow.State.Snapshot, slow.Slot.View, query, admitAddresses: true);
        Log.Add(entry);
        var bytes = MessageEncoder.ForUdp(query, response);
        if (slow.Key is { } key && hint is not null)
        {
            slow.State.Cache.Store(key, slow.Query, bytes, hint);
        }

        return bytes;
    }
}
