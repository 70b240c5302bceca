namespace ArcBox.Daemon.Forwards;

/// <param name="Host">"localhost", "127.0.0.1", "0.0.0.0", "::", or one of the host's addresses.</param>
/// <param name="Protocol">"tcp" (default) or "udp".</param>
public sealed record ForwardRequest(string? Host, int HostPort, string? Sandbox, int SandboxPort, string? Protocol);
