namespace ArcBox.Daemon.Stats;

/// <summary>Packets and bytes one sandbox's rules counted, per direction and verdict.</summary>
public sealed record TrafficTotals(long Packets, long Bytes);
