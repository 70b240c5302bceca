using System.Net;

namespace ArcBox.Dhcp.Protocol;

/// <summary>What one link's client gets: exactly its sandbox's address, the gateway as router, resolver and server.</summary>
/// <param name="Mac">The only client hardware address served on that link (aa:bb:cc:dd:ee:ff).</param>
public sealed record DhcpLease(
    string Sandbox,
    string Mac,
    IPAddress Address,
    int PrefixLength,
    IPAddress Gateway,
    TimeSpan LeaseTime,
    string? DomainName = null,
    int? Mtu = null)
{
    public IPAddress SubnetMask
    {
        get
        {
            var bits = PrefixLength == 0 ? 0u : uint.MaxValue << (32 - PrefixLength);
            return new IPAddress([(byte)(bits >> 24), (byte)(bits >> 16), (byte)(bits >> 8), (byte)bits]);
        }
    }

    /// <summary>The same configuration as the kernel's ip= argument (Documentation/admin-guide/nfs/nfsroot.rst):
    /// ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF:DNS0.</summary>
    public string KernelIpArgument(string device = "eth0") => $"ip={Address}::{Gateway}:{SubnetMask}:{Sandbox}:{device}:off:{Gateway}";
}
