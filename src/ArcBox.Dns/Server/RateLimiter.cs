using System.Collections.Concurrent;
using System.Diagnostics;

namespace ArcBox.Dns.Server;

/// <summary>A token bucket per sandbox: a flood from one sandbox cannot take the resolver from the others.</summary>
public sealed class RateLimiter(int perSecond)
{
    private readonly ConcurrentDictionary<string, Bucket> buckets = new(StringComparer.Ordinal);

    public bool Allow(string sandbox) => Allow(BucketFor(sandbox));

    /// <summary>A sandbox's bucket, kept by the fast path so that a query needs no lookup by name.</summary>
    internal Bucket BucketFor(string sandbox) => buckets.GetOrAdd(sandbox, _ => new Bucket(perSecond * 2));

    /// <summary>Drops a removed sandbox's bucket, so that the limiter does not grow with every name ever seen.</summary>
    public void Forget(string sandbox) => buckets.TryRemove(sandbox, out _);

    /// <summary>How many sandboxes have a bucket.</summary>
    public int Count => buckets.Count;

    internal bool Allow(Bucket bucket)
    {
        lock (bucket)
        {
            var now = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(bucket.Last, now).TotalSeconds;
            bucket.Last = now;
            bucket.Tokens = Math.Min(perSecond * 2, bucket.Tokens + (elapsed * perSecond));
            if (bucket.Tokens < 1)
            {
                return false;
            }

            bucket.Tokens--;
            return true;
        }
    }

    internal sealed class Bucket(double tokens)
    {
        public double Tokens { get; set; } = tokens;

        public long Last { get; set; } = Stopwatch.GetTimestamp();
    }
}
