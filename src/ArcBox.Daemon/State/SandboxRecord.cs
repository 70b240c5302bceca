using System.Net;

namespace ArcBox.Daemon.State;

/// <summary>One sandbox as stored: its desired state, and whether the kernel has accepted it.</summary>
/// <param name="Attach">"netns" (a namespace we create), "netns:PATH", "pid:PID" or "tap".</param>
/// <param name="NetnsPath">The namespace its link lives in (for pid: our bind mount of it); null for tap.</param>
/// <param name="PolicyName">"default", "offline", or the file the policy came from.</param>
/// <param name="Applied">False while a create is under way: such a record found at start is rolled back.</param>
public sealed record SandboxRecord(
    string Name,
    string Attach,
    string? NetnsPath,
    uint? TapUid,
    uint? TapGid,
    IPAddress Ipv4,
    IPAddress? Ipv6,
    string Mac,
    string Interface,
    string PolicyName,
    string PolicyYaml,
    bool Applied,
    DateTimeOffset CreatedAt)
{
    public bool IsTap => Attach == "tap";

    /// <summary>We created the namespace, so removing the sandbox deletes it.</summary>
    public bool OwnsNamespace => Attach == "netns";

    /// <summary>We created the name /run/netns/... (a bind mount of a process's namespace), not the namespace.</summary>
    public bool OwnsNamespaceName => Attach.StartsWith("pid:", StringComparison.Ordinal);
}
