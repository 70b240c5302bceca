using System.Text.Json.Nodes;
using ArcBox.Daemon.State;
using ArcBox.Netfilter;

namespace ArcBox.Daemon.Api;

/// <summary>What a user pastes to attach their own VMM to a tap sandbox (the guest must use the sandbox's MAC).</summary>
public sealed record VmmAttachment(string Qemu, JsonObject Firecracker, string KernelIp)
{
    public static VmmAttachment For(SandboxRecord r, NetworkConfig network) => new(
        $"-netdev tap,id=net0,ifname={r.Interface},script=no,downscript=no,vhost=off,vnet_hdr=on -device virtio-net-device,netdev=net0,mac={r.Mac}",
        new JsonObject
        {
            ["iface_id"] = "net0",
            ["host_dev_name"] = r.Interface,
            ["guest_mac"] = r.Mac,
        },
        $"ip={r.Ipv4}::{network.Gateway4}:{Mask(network.Subnet4.PrefixLength)}::eth0:off:{network.Gateway4}");

    private static string Mask(int prefix)
    {
        var bits = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return $"{bits >> 24}.{(bits >> 16) & 255}.{(bits >> 8) & 255}.{bits & 255}";
    }
}
