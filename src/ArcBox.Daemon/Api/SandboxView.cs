using ArcBox.Daemon.State;
using ArcBox.Daemon.Vms;
using ArcBox.Dhcp.Protocol;
using ArcBox.Netfilter;

namespace ArcBox.Daemon.Api;

/// <summary>A sandbox as the API and `arcbox inspect` show it.</summary>
public sealed record SandboxView(
    string Name,
    string Attach,
    string Ipv4,
    string? Ipv6,
    int PrefixLength,
    string Mac,
    string HostInterface,
    string? NetnsPath,
    string? TapName,
    string Gateway,
    string? Gateway6,
    string Dns,
    string Policy,
    DateTimeOffset CreatedAt,
    VmmAttachment? Vmm,
    VmStatus? Vm)
{
    public static SandboxView From(SandboxRecord r, NetworkConfig network, DhcpLease? lease, VmStatus? vm) => new(
        r.Name,
        r.Attachment.Text,
        r.Ipv4.ToString(),
        r.Ipv6?.ToString(),
        network.Subnet4.PrefixLength,
        r.Mac,
        r.Interface,
        r.NetnsPath,
        r.IsTap ? r.Interface : null,
        network.Gateway4.ToString(),
        network.Gateway6?.ToString(),
        network.Gateway4.ToString(),
        r.PolicyName,
        r.CreatedAt,
        lease is null ? null : VmmAttachment.For(r, lease),
        vm);
}
