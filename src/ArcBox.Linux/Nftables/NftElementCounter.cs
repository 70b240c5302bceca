namespace ArcBox.Linux.Nftables;

/// <summary>A set element's counter as the kernel reported it: the set, the element's key bytes, packets and bytes.</summary>
public sealed record NftElementCounter(string Set, byte[] Key, ulong Packets, ulong Bytes);
