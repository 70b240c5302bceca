using System.Net;
using System.Numerics;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// IPv4 addresses are handed out round-robin from a cursor, so a freed address is the last to be reused (its
/// conntrack entries have long expired by then). The IPv6 address carries the same host number in the IPv6 subnet.
/// </summary>
public static class AddressAllocator
{
    /// <summary>The next free address after <paramref name="cursor"/>, skipping network, gateway and broadcast.</summary>
    public static IPAddress? Next(IPNetwork subnet, IPAddress gateway, Func<IPAddress, bool> used, IPAddress? cursor)
    {
        var first = ToNumber(subnet.BaseAddress);
        var size = BigInteger.One << (32 - subnet.PrefixLength);
        var start = cursor is not null && InSubnet(subnet, cursor) ? ToNumber(cursor) - first + 1 : 2;
        for (BigInteger i = 0; i < size; i++)
        {
            var offset = (start + i) % size;
            if (offset == 0 || offset == size - 1)
            {
                continue;
            }

            var candidate = FromNumber(first + offset, 4);
            if (!candidate.Equals(gateway) && !used(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The IPv6 address with the IPv4 address's host number, in <paramref name="subnet6"/>.</summary>
    public static IPAddress Ipv6For(IPNetwork subnet4, IPAddress ipv4, IPNetwork subnet6) =>
        FromNumber(ToNumber(subnet6.BaseAddress) + (ToNumber(ipv4) - ToNumber(subnet4.BaseAddress)), 16);

    public static bool IsUsable(IPNetwork subnet, IPAddress gateway, IPAddress address)
    {
        if (!InSubnet(subnet, address) || address.Equals(gateway))
        {
            return false;
        }

        var offset = ToNumber(address) - ToNumber(subnet.BaseAddress);
        return offset != 0 && offset != (BigInteger.One << (32 - subnet.PrefixLength)) - 1;
    }

    private static bool InSubnet(IPNetwork subnet, IPAddress address) => ArcBox.Policy.Parsing.Addresses.Contains(subnet, address);

    private static BigInteger ToNumber(IPAddress a) => new(a.GetAddressBytes(), isUnsigned: true, isBigEndian: true);

    private static IPAddress FromNumber(BigInteger n, int bytes)
    {
        var raw = n.ToByteArray(isUnsigned: true, isBigEndian: true);
        var padded = new byte[bytes];
        raw.CopyTo(padded, bytes - raw.Length);
        return new IPAddress(padded);
    }
}
