using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// Encoded answers of one resolver snapshot, keyed by (sandbox, lower-cased name, type). A new snapshot starts an
/// empty cache, so a change of policies or sandboxes takes effect for the next query. Bounded: a flood of random
/// names (tunnelling, refused) costs the slow path, never memory.
/// </summary>
internal sealed class ResponseCache
{
    /// <summary>Sandbox index (two chars), QTYPE, then one char per wire byte of the name.</summary>
    public const int MaxKey = 3 + 255;

    private readonly int capacity;
    private readonly ConcurrentDictionary<string, CachedResponse> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedResponse>.AlternateLookup<ReadOnlySpan<char>> bySpan;
    private int count;

    public ResponseCache(int capacity)
    {
        this.capacity = capacity;
        bySpan = entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => Volatile.Read(ref count);

    public static int WriteKey(int sandbox, in WireQuery query, ReadOnlySpan<byte> datagram, Span<char> key)
    {
        key[0] = (char)(sandbox >> 16);
        key[1] = (char)sandbox;
        key[2] = (char)query.Type;
        query.WriteName(datagram, key[3..]);
        return 3 + query.NameLength;
    }

    /// <summary>A valid entry and its age in whole seconds (0 for local answers); expired entries are removed.</summary>
    public bool TryGet(ReadOnlySpan<char> key, TimeProvider time, out CachedResponse entry, out int age)
    {
        age = 0;
        if (!bySpan.TryGetValue(key, out entry!))
        {
            return false;
        }

        var hint = entry.Hint;
        if (hint.Lifetime == CacheHint.Forever)
        {
            return true;
        }

        // The same rule as the answer cache the entry came from, so both expire in the same second.
        age = (int)time.GetElapsedTime(hint.Stored).TotalSeconds;
        if (age < hint.Lifetime)
        {
            return true;
        }

        if (bySpan.TryRemove(key, out _, out _))
        {
            Interlocked.Decrement(ref count);
        }

        return false;
    }

    /// <summary>
    /// Keeps the answer section of a response the slow path encoded for <paramref name="query"/>, if the response
    /// has exactly the shape the fast path rebuilds (one question of the query's length, answers only, the OPT
    /// record when the query had one, not truncated); otherwise keeps nothing.
    /// </summary>
    public void Store(string key, in WireQuery query, ReadOnlySpan<byte> response, CacheHint hint)
    {
        if (Parse(key, query, response, hint) is not { } entry)
        {
            return;
        }

        if (Volatile.Read(ref count) >= capacity)
        {
            Evict();
        }

        if (entries.TryAdd(key, entry))
        {
            Interlocked.Increment(ref count);
        }
        else
        {
            entries[key] = entry;
        }
    }

    private static CachedResponse? Parse(string key, in WireQuery query, ReadOnlySpan<byte> r, CacheHint hint)
    {
        var questionEnd = query.QuestionEnd;
        if (r.Length < questionEnd
            || (BinaryPrimitives.ReadUInt16BigEndian(r[2..]) & 0x0200) != 0
            || BinaryPrimitives.ReadUInt16BigEndian(r[4..]) != 1
            || BinaryPrimitives.ReadUInt16BigEndian(r[8..]) != 0
            || BinaryPrimitives.ReadUInt16BigEndian(r[10..]) != (query.HasOpt ? 1 : 0))
        {
            return null;
        }

        // The question must be the asked one, as the key has it (lower-cased).
        var name = r.Slice(WireQuery.HeaderLength, query.NameLength);
        for (var i = 0; i < name.Length; i++)
        {
            var b = name[i];
            if ((char)(b is >= (byte)'A' and <= (byte)'Z' ? b | 0x20 : b) != key[3 + i])
            {
                return null;
            }
        }

        var answers = BinaryPrimitives.ReadUInt16BigEndian(r[6..]);
        if (hint.AgingTtls.Length != answers)
        {
            return null;
        }

        var ttls = new List<(int Offset, int Ttl)>();
        var pos = questionEnd;
        for (var i = 0; i < answers; i++)
        {
            pos = SkipName(r, pos);

            // TYPE, CLASS, TTL (4 bytes at +4), RDLENGTH, RDATA.
            if (pos < 0 || pos + 10 > r.Length)
            {
                return null;
            }

            if (hint.AgingTtls[i] > 0)
            {
                ttls.Add((pos + 4 - questionEnd, hint.AgingTtls[i]));
            }

            pos += 10 + BinaryPrimitives.ReadUInt16BigEndian(r[(pos + 8)..]);
        }

        if (pos != r.Length - (query.HasOpt ? WireQuery.OptLength : 0))
        {
            return null;
        }

        return new CachedResponse(r[questionEnd..pos].ToArray(), answers, (byte)(r[3] & 0x0f), [.. ttls], hint);
    }

    /// <returns>The offset after the name, or -1 when it runs off the end.</returns>
    private static int SkipName(ReadOnlySpan<byte> r, int pos)
    {
        while (pos < r.Length)
        {
            var b = r[pos];
            if (b == 0)
            {
                return pos + 1;
            }

            if ((b & 0xc0) == 0xc0)
            {
                return pos + 2;
            }

            if (b > 63)
            {
                return -1;
            }

            pos += 1 + b;
        }

        return -1;
    }

    /// <summary>Crude but bounded, as the answer cache: drop an arbitrary quarter; hits refill what matters.</summary>
    private void Evict()
    {
        var drop = Math.Max(1, capacity / 4);
        foreach (var (key, _) in entries)
        {
            if (drop-- <= 0)
            {
                break;
            }

            if (entries.TryRemove(key, out _))
            {
                Interlocked.Decrement(ref count);
            }
        }
    }
}
