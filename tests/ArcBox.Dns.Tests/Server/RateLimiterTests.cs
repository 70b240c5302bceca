using ArcBox.Dns.Server;

namespace ArcBox.Dns.Tests.Server;

public class RateLimiterTests
{
    [Fact]
    public void A_sandbox_gets_twice_its_rate_as_a_burst_then_silence()
    {
        var limiter = new RateLimiter(10);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var allowed = Enumerable.Range(0, 50).Count(_ => limiter.Allow("a"));

        // The burst is two seconds' worth; what refills while the loop runs (10 a second) may be added.
        Assert.InRange(allowed, 20, 20 + (int)Math.Ceiling(started.Elapsed.TotalSeconds * 10));
        Assert.True(limiter.Allow("b"), "another sandbox keeps its own bucket");
    }

    [Fact]
    public void A_removed_sandbox_leaves_no_bucket_behind()
    {
        var limiter = new RateLimiter(10);
        for (var i = 0; i < 1000; i++)
        {
            limiter.Allow($"s{i}");
            limiter.Forget($"s{i}");
        }

        Assert.Equal(0, limiter.Count);
    }
}
