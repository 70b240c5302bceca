using System.Buffers.Binary;
using System.Text;

namespace ArcBox.Netfilter.Wire;

/// <summary>
/// Writes one nf_tables netlink message: struct nlmsghdr (u32 len, u16 type, u16 flags, u32 seq, u32 pid, host byte
/// order), struct nfgenmsg (u8 family, u8 version, be16 res_id), then attributes (struct nlattr: u16 len, u16 type,
/// the payload padded to 4 bytes, NLA_ALIGN), each nest patched with its length when closed. Sequence number and
/// port id stay 0: the batch that sends the message numbers it.
/// </summary>
/// <remarks>
/// ArcBox.Linux has a builder of its own for every netlink family it speaks. This one is the part nf_tables needs,
/// kept here so that the compiler never references the kernel side; a third assembly for these lines would have
/// made rtnetlink's struct layouts, which only ArcBox.Linux uses, a shared public API. Both are pinned byte for
/// byte: this one against nft's own messages (tests/testdata/netlink), the other in ArcBox.Linux.Tests.
/// </remarks>
internal sealed class NetlinkMessageWriter
{
    public const int HeaderLength = 16;
    private const ushort NLM_F_REQUEST = 0x1;
    private const ushort NLA_F_NESTED = 0x8000;

    private readonly Stack<int> nests = new();
    private byte[] buffer = new byte[256];
    private int length;

    /// <param name="type">(subsystem &lt;&lt; 8) | message type.</param>
    /// <param name="flags">NLM_F_* besides NLM_F_REQUEST, which every request carries.</param>
    /// <param name="family">nfgenmsg's family (NFPROTO_INET, NFPROTO_ARP).</param>
    public NetlinkMessageWriter(ushort type, ushort flags, byte family)
    {
        var header = Reserve(HeaderLength + 4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)(flags | NLM_F_REQUEST));
        header[HeaderLength] = family; // version NFNETLINK_V0 and res_id 0 follow
    }

    public NetlinkMessageWriter Attr(ushort type, ReadOnlySpan<byte> data)
    {
        var s = Reserve(Align(4 + data.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)(4 + data.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        data.CopyTo(s[4..]);
        return this;
    }

    /// <summary>nf_tables attributes carry their integers in network byte order.</summary>
    public NetlinkMessageWriter AttrBe16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        return Attr(type, b);
    }

    public NetlinkMessageWriter AttrBe32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        return Attr(type, b);
    }

    public NetlinkMessageWriter AttrBe64(ushort type, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return Attr(type, b);
    }

    /// <summary>A NUL-terminated string, as the kernel expects names.</summary>
    public NetlinkMessageWriter AttrString(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attr(type, bytes);
    }

    /// <summary>Opens a nested attribute; nf_tables wants NLA_F_NESTED on every one.</summary>
    public NetlinkMessageWriter BeginNest(ushort type)
    {
        nests.Push(length);
        var s = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], (ushort)(type | NLA_F_NESTED));
        return this;
    }

    public NetlinkMessageWriter EndNest()
    {
        var start = nests.Pop();
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(start), (ushort)(length - start));
        return this;
    }

    public byte[] ToArray()
    {
        if (nests.Count > 0)
        {
            throw new InvalidOperationException($"{nests.Count} nested attribute(s) still open");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
        return buffer.AsSpan(0, length).ToArray();
    }

    private static int Align(int n) => (n + 3) & ~3;

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
