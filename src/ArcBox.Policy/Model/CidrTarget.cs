using System.Net;

namespace ArcBox.Policy.Model;

/// <summary>An address or CIDR. A single address is stored as a /32 or /128 network.</summary>
public sealed record CidrTarget(IPNetwork Cidr) : Target
{
    public bool IsIPv6 => Cidr.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;

    public bool IsSingleAddress => Cidr.PrefixLength == (IsIPv6 ? 128 : 32);

    public override string ToString() => IsSingleAddress ? Cidr.BaseAddress.ToString() : Cidr.ToString();
}
