using System.Buffers.Binary;

namespace ArcBox.Linux.Netlink;

/// <summary>The attributes of a netlink message or nest, in order, as spans (u16 length, u16 type, payload).</summary>
internal ref struct Attributes(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> rest = data;

    public Attribute Current { get; private set; }

    public readonly Attributes GetEnumerator() => this;

    public bool MoveNext()
    {
        if (rest.Length < 4)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
        if (length < 4 || length > rest.Length)
        {
            return false;
        }

        Current = new Attribute((ushort)(BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]) & 0x3FFF), rest[4..length]);
        rest = rest[Math.Min(NetlinkMessage.Align(length), rest.Length)..];
        return true;
    }
}
