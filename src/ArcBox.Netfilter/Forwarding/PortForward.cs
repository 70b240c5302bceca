using System.Net;
using System.Net.Sockets;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Forwarding;

/// <summary>
/// One port of one sandbox exposed on the host. <see cref="HostAddress"/> is a host address, a loopback address
/// (reachable only from the host itself), or Any/IPv6Any (every host address).
/// </summary>
public sealed record PortForward(IPAddress HostAddress, int HostPort, Protocol Protocol, string Sandbox, int SandboxPort)
{
    public bool IsAnyAddress => HostAddress.Equals(IPAddress.Any) || HostAddress.Equals(IPAddress.IPv6Any);

    public bool IsIPv6 => HostAddress.AddressFamily == AddressFamily.InterNetworkV6;

    public string Protocol4 => Protocol == Protocol.Udp ? "udp" : "tcp";

    /// <summary>"127.0.0.1:8080/tcp", "[::]:53/udp".</summary>
    public string Key => $"{(IsIPv6 ? $"[{HostAddress}]" : HostAddress.ToString())}:{HostPort}/{Protocol4}";

    public override string ToString() => $"{Key} => {Sandbox}:{SandboxPort}";
}
