using ArcBox.Daemon.State;
using ArcBox.Netfilter;
using ArcBox.Policy.Model;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>A live sandbox as the table holds it: its stored record, its validated policy and what wiring learnt.</summary>
/// <param name="LinkIndex">The host-side link's interface index (learnt when the link was made; a TAP's DHCP
/// requests arrive by it). Null when the link is missing.</param>
public sealed record Sandbox(SandboxRecord Record, SandboxPolicy Policy, int? LinkIndex)
{
    public string Name => Record.Name;

    public SandboxIdentity Identity => IdentityOf(Record);

    public static SandboxIdentity IdentityOf(SandboxRecord r) => new(r.Name, r.Interface, r.Ipv4, r.Ipv6, r.Mac, Dhcp: r.IsTap);
}
