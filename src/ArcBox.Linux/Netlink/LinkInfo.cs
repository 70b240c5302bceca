namespace ArcBox.Linux.Netlink;

/// <param name="Kind">"veth", "tun", "dummy", ... or null for physical links.</param>
public sealed record LinkInfo(int Index, string Name, string? Kind, bool Up);
