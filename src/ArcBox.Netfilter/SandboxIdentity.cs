using System.Net;

namespace ArcBox.Netfilter;

/// <summary>Who a sandbox is on the wire: its host-side interface, addresses and MAC.</summary>
/// <param name="Dhcp">The daemon answers DHCP on its link (TAP sandboxes: a guest may configure itself that way).</param>
public sealed record SandboxIdentity(string Name, string Interface, IPAddress Ipv4, IPAddress? Ipv6, string Mac, bool Dhcp = false)
{
    public static SandboxIdentity Create(NetworkConfig network, string name, IPAddress ipv4, IPAddress? ipv6 = null, string? mac = null, bool dhcp = false) =>
        new(name, InterfaceNames.For(network.Prefix, name), ipv4, ipv6, (mac ?? MacAddresses.For(network.Prefix, name)).ToLowerInvariant(), dhcp);
}
