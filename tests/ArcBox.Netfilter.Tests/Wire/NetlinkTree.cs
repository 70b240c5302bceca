using System.Buffers.Binary;

namespace ArcBox.Netfilter.Tests.Wire;

/// <summary>
/// An nfnetlink message parsed strictly (every length consistent, padding zero) into nlmsghdr, nfgenmsg and a tree
/// of attributes, and written back with lengths and padding recomputed: so that two encodings can be compared
/// byte for byte after normalising exactly the fields they may differ in, and no others.
/// </summary>
public sealed class NetlinkTree
{
    private const int HeaderLength = 16;

    private NetlinkTree(byte[] header, byte[] familyHeader, List<Nlattr> attributes)
    {
        Header = header;
        FamilyHeader = familyHeader;
        Attributes = attributes;
    }

    /// <summary>struct nlmsghdr; its length is recomputed by <see cref="ToBytes"/>.</summary>
    public byte[] Header { get; }

    /// <summary>struct nfgenmsg: family, version, be16 res_id.</summary>
    public byte[] FamilyHeader { get; }

    public List<Nlattr> Attributes { get; }

    public ushort MessageType => BinaryPrimitives.ReadUInt16LittleEndian(Header.AsSpan(4));

    public uint Sequence
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(Header.AsSpan(8));
        set => BinaryPrimitives.WriteUInt32LittleEndian(Header.AsSpan(8), value);
    }

    public Nlattr Attr(ushort kind) => Attributes.Single(a => a.Kind == kind);

    public static NetlinkTree Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderLength + 4 || BinaryPrimitives.ReadUInt32LittleEndian(message) != message.Length)
        {
            throw new FormatException($"nlmsg_len {BinaryPrimitives.ReadUInt32LittleEndian(message)} for {message.Length} bytes");
        }

        return new NetlinkTree(message[..HeaderLength].ToArray(), message[HeaderLength..(HeaderLength + 4)].ToArray(), ParseAttributes(message[(HeaderLength + 4)..]));
    }

    public byte[] ToBytes()
    {
        var bytes = new List<byte>(Header);
        bytes.AddRange(FamilyHeader);
        foreach (var a in Attributes)
        {
            Write(bytes, a);
        }

        var result = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)result.Length);
        return result;
    }

    private static List<Nlattr> ParseAttributes(ReadOnlySpan<byte> data)
    {
        var list = new List<Nlattr>();
        while (data.Length > 0)
        {
            if (data.Length < 4)
            {
                throw new FormatException($"{data.Length} bytes left, too few for an attribute header");
            }

            var length = BinaryPrimitives.ReadUInt16LittleEndian(data);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
            var padded = (length + 3) & ~3;
            if (length < 4 || padded > data.Length)
            {
                throw new FormatException($"attribute {type & 0x3fff} of {length} bytes where {data.Length} are left");
            }

            if (data[length..padded].ContainsAnyExcept((byte)0))
            {
                throw new FormatException($"attribute {type & 0x3fff}: its padding is not zero");
            }

            var payload = data[4..length];
            list.Add((type & Nlattr.NLA_F_NESTED) != 0
                ? new Nlattr(type, null, ParseAttributes(payload))
                : new Nlattr(type, payload.ToArray(), null));
            data = data[padded..];
        }

        return list;
    }

    private static void Write(List<byte> bytes, Nlattr a)
    {
        var start = bytes.Count;
        bytes.AddRange([0, 0, (byte)a.Type, (byte)(a.Type >> 8)]);
        if (a.Children is { } children)
        {
            foreach (var child in children)
            {
                Write(bytes, child);
            }
        }
        else
        {
            bytes.AddRange(a.Value!);
        }

        var length = bytes.Count - start;
        bytes[start] = (byte)length;
        bytes[start + 1] = (byte)(length >> 8);
        bytes.AddRange(new byte[((length + 3) & ~3) - length]);
    }
}
