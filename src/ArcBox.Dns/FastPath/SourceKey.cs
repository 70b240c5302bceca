using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// A source address as a 128-bit number, read from the raw sockaddr without allocating: IPv6 as is, IPv4 as its
/// IPv4-mapped IPv6 form (::ffff:a.b.c.d), so a mapped address finds the same sandbox as the plain one.
/// </summary>
internal static class SourceKey
{
    private static readonly UInt128 Mapped = (UInt128)0xffff << 32;

    /// <returns>False for a family other than IPv4 or IPv6.</returns>
    public static bool TryRead(SocketAddress address, out UInt128 key)
    {
        // Linux sockaddr_in: family, port, 4-byte address; sockaddr_in6: family, port, flowinfo, 16-byte address.
        var raw = address.Buffer.Span;
        switch (address.Family)
        {
            case AddressFamily.InterNetwork when address.Size >= 8:
                key = Mapped | BinaryPrimitives.ReadUInt32BigEndian(raw[4..]);
                return true;
            case AddressFamily.InterNetworkV6 when address.Size >= 24:
                key = BinaryPrimitives.ReadUInt128BigEndian(raw[8..]);
                return true;
            default:
                key = default;
                return false;
        }
    }

    public static UInt128 Of(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.MapToIPv6().TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
