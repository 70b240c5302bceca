using ArcBox.Dns.Lookup;
using ArcBox.Dns.Server;

namespace ArcBox.Dns.FastPath;

/// <summary>A sandbox as the fast path finds it by source address: its view, its place in cache keys, its rate bucket.</summary>
internal sealed class SandboxSlot(int index, SandboxDnsView view, RateLimiter.Bucket bucket)
{
    public int Index { get; } = index;

    public SandboxDnsView View { get; } = view;

    public RateLimiter.Bucket Bucket { get; } = bucket;
}
