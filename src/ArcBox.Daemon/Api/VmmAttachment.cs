using System.Text.Json.Nodes;
using ArcBox.Daemon.State;
using ArcBox.Dhcp.Protocol;

namespace ArcBox.Daemon.Api;

/// <summary>What a user pastes to attach their own VMM to a tap sandbox (the guest must use the sandbox's MAC).</summary>
/// <param name="KernelIp">The guest's address as a kernel argument; DHCP on the TAP gives the same.</param>
public sealed record VmmAttachment(string Qemu, JsonObject Firecracker, string KernelIp)
{
    public static VmmAttachment For(SandboxRecord r, DhcpLease lease) => new(
        $"-netdev tap,id=net0,ifname={r.Interface},script=no,downscript=no,vhost=off,vnet_hdr=on -device virtio-net-device,netdev=net0,mac={r.Mac}",
        new JsonObject
        {
            ["iface_id"] = "net0",
            ["host_dev_name"] = r.Interface,
            ["guest_mac"] = r.Mac,
        },
        lease.KernelIpArgument());
}
