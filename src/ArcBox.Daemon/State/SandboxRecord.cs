using System.Net;
using ArcBox.Daemon.Sandboxes;

namespace ArcBox.Daemon.State;

/// <summary>One sandbox as stored: its desired state, and whether the kernel has accepted it.</summary>
/// <param name="PolicyName">"default", "offline", or the file the policy came from.</param>
/// <param name="Applied">False while a create is under way: such a record found at start is rolled back.</param>
public sealed record SandboxRecord(
    string Name,
    Attachment Attachment,
    IPAddress Ipv4,
    IPAddress? Ipv6,
    string Mac,
    string Interface,
    string PolicyName,
    string PolicyYaml,
    bool Applied,
    DateTimeOffset CreatedAt)
{
    public bool IsTap => Attachment is Attachment.Tap;

    /// <summary>We created the namespace, so removing the sandbox deletes it.</summary>
    public bool OwnsNamespace => Attachment is Attachment.Netns;

    /// <summary>The namespace its link lives in (for pid: our bind mount of it); null for tap.</summary>
    public string? NetnsPath => Attachment.NamespacePath;
}
