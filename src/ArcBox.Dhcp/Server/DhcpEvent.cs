namespace ArcBox.Dhcp.Server;

/// <summary>One thing the server did or refused: the sandbox (null when the link is not a TAP sandbox's) and what.</summary>
public sealed record DhcpEvent(DateTimeOffset Time, string? Sandbox, string Interface, string What);
