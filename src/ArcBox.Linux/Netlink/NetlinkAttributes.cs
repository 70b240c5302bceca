using System.Buffers.Binary;
using System.Text;

namespace ArcBox.Linux.Netlink;

/// <summary>Reads the attributes (struct rtattr / nlattr: u16 len, u16 type, payload) of a netlink message.</summary>
internal static class NetlinkAttributes
{
    /// <summary>Each attribute's payload by type.</summary>
    public static Dictionary<ushort, byte[]> Parse(ReadOnlySpan<byte> data) => Walk(data, withHeader: false);

    /// <summary>Each attribute whole (header included), to be sent back unchanged.</summary>
    public static Dictionary<ushort, byte[]> ParseRaw(ReadOnlySpan<byte> data) => Walk(data, withHeader: true);

    private static Dictionary<ushort, byte[]> Walk(ReadOnlySpan<byte> data, bool withHeader)
    {
        var result = new Dictionary<ushort, byte[]>();
        while (data.Length >= 4)
        {
            var len = BinaryPrimitives.ReadUInt16LittleEndian(data);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(data[2..]) & 0x3FFF);
            if (len < 4 || len > data.Length)
            {
                break;
            }

            result[type] = data[(withHeader ? 0 : 4)..len].ToArray();
            data = data[Math.Min(NetlinkMessage.Align(len), data.Length)..];
        }

        return result;
    }

    /// <summary>The attributes in order, repeated types included (the elements of a nested list).</summary>
    public static List<(ushort Type, byte[] Value)> List(ReadOnlySpan<byte> data)
    {
        var result = new List<(ushort, byte[])>();
        while (data.Length >= 4)
        {
            var len = BinaryPrimitives.ReadUInt16LittleEndian(data);
            if (len < 4 || len > data.Length)
            {
                break;
            }

            result.Add(((ushort)(BinaryPrimitives.ReadUInt16LittleEndian(data[2..]) & 0x3FFF), data[4..len].ToArray()));
            data = data[Math.Min(NetlinkMessage.Align(len), data.Length)..];
        }

        return result;
    }

    public static string String(byte[] value) => Encoding.UTF8.GetString(value).TrimEnd('\0');
}
