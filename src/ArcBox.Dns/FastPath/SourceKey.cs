using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// A source address as a 128-bit number, read from the raw sockaddr without allocating: IPv6 as is, IPv4 as its
/// IPv4-mapped IPv6 form (::ffff:a.b.c.d), so a mapped address finds the same sandbox as the plain one.
/// </summary>
internal static class SourceKey
{
    private static readonly UInt128 Mapped = (UInt128)0xffff << 32;

    // Linux: sa_family_t in host byte order; .NET's SocketAddress holds the same native bytes.
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    public static bool TryRead(SocketAddress address, out UInt128 key) => TryRead(address.Buffer.Span[..address.Size], out key);

    /// <param name="sockaddr">sockaddr_in: family, port, 4-byte address; sockaddr_in6: family, port, flowinfo, 16-byte address.</param>
    /// <returns>False for a family other than IPv4 or IPv6.</returns>
    public static bool TryRead(ReadOnlySpan<byte> sockaddr, out UInt128 key)
    {
        var family = sockaddr.Length >= 2 ? MemoryMarshal.Read<ushort>(sockaddr) : (ushort)0;
        switch (family)
        {
            case AfInet when sockaddr.Length >= 8:
                key = Mapped | BinaryPrimitives.ReadUInt32BigEndian(sockaddr[4..]);
                return true;
            case AfInet6 when sockaddr.Length >= 24:
                key = BinaryPrimitives.ReadUInt128BigEndian(sockaddr[8..]);
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
