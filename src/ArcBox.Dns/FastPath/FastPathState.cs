using ArcBox.Dns.Lookup;
using ArcBox.Dns.Server;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// What the fast path derives from one <see cref="ResolverSnapshot"/>: sandboxes by raw source address and a
/// response cache. Built on the first query that sees a new snapshot and dropped with it, so nothing cached under
/// an older snapshot is ever served.
/// </summary>
internal sealed class FastPathState
{
    private readonly Dictionary<UInt128, SandboxSlot> bySource = [];

    public FastPathState(ResolverSnapshot snapshot, RateLimiter limiter, int cacheCapacity)
    {
        Snapshot = snapshot;
        Cache = new ResponseCache(cacheCapacity);
        var slots = new Dictionary<string, SandboxSlot>(StringComparer.Ordinal);
        foreach (var (address, view) in snapshot.ByAddress)
        {
            if (!slots.TryGetValue(view.Name, out var slot))
            {
                slot = new SandboxSlot(slots.Count, view, limiter.BucketFor(view.Name));
                slots.Add(view.Name, slot);
            }

            bySource[SourceKey.Of(address)] = slot;
        }
    }

    public ResolverSnapshot Snapshot { get; }

    public ResponseCache Cache { get; }

    public bool TryFind(UInt128 source, out SandboxSlot slot) => bySource.TryGetValue(source, out slot!);
}
