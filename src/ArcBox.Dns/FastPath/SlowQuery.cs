namespace ArcBox.Dns.FastPath;

/// <summary>A UDP query the fast path passed on: who asked (under which snapshot), and where to keep the answer.</summary>
/// <param name="Key">The response cache key when the query had the plain form; null otherwise (nothing is cached).</param>
internal readonly record struct SlowQuery(FastPathState State, SandboxSlot Slot, string? Key, WireQuery Query);
