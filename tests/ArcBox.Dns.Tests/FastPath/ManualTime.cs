namespace ArcBox.Dns.Tests.FastPath;

/// <summary>A clock that moves only when told: TTL countdowns without waiting.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref ticks, by.Ticks);
}
