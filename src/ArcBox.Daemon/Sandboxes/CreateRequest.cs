namespace ArcBox.Daemon.Sandboxes;

/// <param name="Attach">"netns" (default), "netns:PATH", "pid:PID" or "tap".</param>
/// <param name="Ipv4">A requested address inside the subnet; null allocates one.</param>
/// <param name="TapOwner">"UID[:GID]" that may open the TAP (tap only).</param>
public sealed record CreateRequest(string? Name, string? Attach, PolicyInput? Policy, string? Ipv4, string? TapOwner);
