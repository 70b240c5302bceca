using System.Buffers.Binary;
using System.Text;
using ArcBox.Linux.Nftables;

namespace ArcBox.Linux.Netlink;

/// <summary>
/// Reads the counters out of an NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM message (a notification or a dump):
/// nfgenmsg, then NFTA_SET_ELEM_LIST_SET 2 and ELEMENTS 3, each element's NFTA_SET_ELEM_KEY 1 (NFTA_DATA_VALUE 1) and
/// its counter in NFTA_SET_ELEM_EXPR 7 or in the list NFTA_SET_ELEM_EXPRESSIONS 11 (NFTA_EXPR_NAME 1, DATA 2:
/// NFTA_COUNTER_BYTES 1, PACKETS 2, big-endian u64). An element without a counter is left out.
/// </summary>
internal static class NftElementNotification
{
    public const ushort NewSetElem = (10 << 8) | 12;
    public const ushort DelSetElem = (10 << 8) | 14;

    public static IEnumerable<NftElementCounter> Counters(byte[] payload)
    {
        var list = new List<NftElementCounter>();
        if (payload.Length < 4)
        {
            return list;
        }

        string set = "";
        ReadOnlySpan<byte> elements = default;
        foreach (var (type, value) in new Attributes(payload.AsSpan(4)))
        {
            if (type == 2)
            {
                set = Encoding.UTF8.GetString(value).TrimEnd('\0');
            }
            else if (type == 3)
            {
                elements = value;
            }
        }

        foreach (var (_, element) in new Attributes(elements))
        {
            byte[]? key = null;
            (ulong Packets, ulong Bytes)? counter = null;
            foreach (var (type, value) in new Attributes(element))
            {
                switch (type)
                {
                    case 1:
                        foreach (var (t, data) in new Attributes(value))
                        {
                            if (t == 1)
                            {
                                key = data.ToArray();
                            }
                        }

                        break;
                    case 7:
                        counter ??= Counter(value);
                        break;
                    case 11:
                        foreach (var (_, expression) in new Attributes(value))
                        {
                            counter ??= Counter(expression);
                        }

                        break;
                }
            }

            if (key is not null && counter is { } c)
            {
                list.Add(new NftElementCounter(set, key, c.Packets, c.Bytes));
            }
        }

        return list;
    }

    private static (ulong, ulong)? Counter(ReadOnlySpan<byte> expression)
    {
        ReadOnlySpan<byte> name = default, data = default;
        foreach (var (type, value) in new Attributes(expression))
        {
            if (type == 1)
            {
                name = value;
            }
            else if (type == 2)
            {
                data = value;
            }
        }

        if (!name.SequenceEqual("counter\0"u8))
        {
            return null;
        }

        ulong packets = 0, bytes = 0;
        foreach (var (type, value) in new Attributes(data))
        {
            if (type == 1 && value.Length >= 8)
            {
                bytes = BinaryPrimitives.ReadUInt64BigEndian(value);
            }
            else if (type == 2 && value.Length >= 8)
            {
                packets = BinaryPrimitives.ReadUInt64BigEndian(value);
            }
        }

        return (packets, bytes);
    }
}
