using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>
/// Builds one netlink request: nlmsghdr, the family header (ifinfomsg, ifaddrmsg, rtmsg) and attributes, each
/// padded to 4 bytes (NLA_ALIGN), nested attributes patched with their length when closed. Host byte order.
/// </summary>
internal sealed class NetlinkMessage
{
    private readonly Stack<int> nests = new();
    private byte[] buffer = new byte[512];
    private int length;

    public NetlinkMessage(ushort type, ushort flags)
    {
        Type = type;
        Reserve(HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(6), (ushort)(flags | NLM_F_REQUEST));
    }

    public ushort Type { get; }

    /// <summary>struct ifinfomsg { u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change }.</summary>
    public NetlinkMessage IfInfo(int index = 0, uint flags = 0, uint change = 0, byte family = AF_UNSPEC)
    {
        var s = Reserve(16);
        s[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], change);
        return this;
    }

    /// <summary>struct ifaddrmsg { u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index }.</summary>
    public NetlinkMessage IfAddr(IPAddress address, int prefixLength, int index, byte scope = RT_SCOPE_UNIVERSE)
    {
        var s = Reserve(8);
        s[0] = Family(address);
        s[1] = (byte)prefixLength;
        s[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        return this;
    }

    /// <summary>struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags }.</summary>
    public NetlinkMessage RtMsg(byte family, int dstLength, byte scope, byte type, uint flags = 0, byte protocol = RTPROT_STATIC)
    {
        var s = Reserve(12);
        s[0] = family;
        s[1] = (byte)dstLength;
        s[4] = RT_TABLE_MAIN;
        s[5] = protocol;
        s[6] = scope;
        s[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        return this;
    }

    /// <summary>struct tcmsg { u8 family, u8 pad1, u16 pad2, s32 ifindex, u32 handle, u32 parent, u32 info }.</summary>
    public NetlinkMessage TcMsg(int index, uint handle, uint parent, uint info = 0)
    {
        var s = Reserve(20);
        s[0] = AF_UNSPEC;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], handle);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], parent);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], info);
        return this;
    }

    /// <summary>struct nfgenmsg { u8 family, u8 version, be16 res_id } of nfnetlink messages.</summary>
    public NetlinkMessage NfGen(byte family, ushort resourceId = 0)
    {
        var s = Reserve(4);
        s[0] = family;
        BinaryPrimitives.WriteUInt16BigEndian(s[2..], resourceId);
        return this;
    }

    /// <summary>An attribute copied as the kernel sent it (type, flags and payload).</summary>
    public NetlinkMessage RawAttr(ReadOnlySpan<byte> attribute)
    {
        var s = Reserve(Align(attribute.Length));
        attribute.CopyTo(s);
        return this;
    }

    public NetlinkMessage Attr(ushort type, ReadOnlySpan<byte> data)
    {
        var s = Reserve(Align(4 + data.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(4 + data.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        data.CopyTo(s[4..]);
        return this;
    }

    public NetlinkMessage AttrU32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return Attr(type, b);
    }

    /// <summary>A big-endian (network order) u16, as nf_tables attributes carry their integers.</summary>
    public NetlinkMessage AttrBe16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        return Attr(type, b);
    }

    public NetlinkMessage AttrBe32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return Attr(type, b);
    }

    public NetlinkMessage AttrBe64(ushort type, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return Attr(type, b);
    }

    /// <summary>A NUL-terminated string, as the kernel expects for names.</summary>
    public NetlinkMessage AttrString(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attr(type, bytes);
    }

    public NetlinkMessage AttrAddress(ushort type, IPAddress address) => Attr(type, address.GetAddressBytes());

    public NetlinkMessage BeginNest(ushort type)
    {
        nests.Push(length);
        Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(length - 2), type);
        return this;
    }

    public NetlinkMessage EndNest()
    {
        var start = nests.Pop();
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(start), (ushort)(length - start));
        return this;
    }

    public ReadOnlySpan<byte> Finish(uint sequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), sequence);
        return buffer.AsSpan(0, length);
    }

    public static byte Family(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? AF_INET : AF_INET6;

    public static int Align(int n) => (n + 3) & ~3;

    private Span<byte> Reserve(int count)
    {
        if (length + count > buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + count));
        }

        var span = buffer.AsSpan(length, count);
        span.Clear();
        length += count;
        return span;
    }
}
