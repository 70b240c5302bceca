namespace ArcBox.Linux.Netlink;

/// <param name="Kind">"veth", "tun", "dummy", ... or null for physical links.</param>
public sealed record LinkInfo(int Index, string Name, string? Kind, bool Up);

/// <summary>A link's traffic since it was created, as the kernel counts it (received = arrived on the link).</summary>
public sealed record LinkCounters(ulong RxPackets, ulong RxBytes, ulong TxPackets, ulong TxBytes, ulong RxDropped, ulong TxDropped);
