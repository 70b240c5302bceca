using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using System.Text;

namespace ArcBox.Dhcp.Protocol;

/// <summary>
/// A BOOTP/DHCP message (RFC 2131 section 2). Layout: op, htype, hlen, hops (1 byte each), xid (4), secs (2),
/// flags (2), ciaddr, yiaddr, siaddr, giaddr (4 each), chaddr (16), sname (64), file (128), then the magic cookie
/// 99.130.83.99 and the options (code, length, value; 0 pads, 255 ends).
/// </summary>
public sealed record DhcpMessage(
    byte Op,
    uint TransactionId,
    ushort Seconds,
    ushort Flags,
    IPAddress ClientAddress,
    IPAddress YourAddress,
    IPAddress ServerAddress,
    IPAddress RelayAddress,
    ImmutableArray<byte> HardwareAddress,
    ImmutableDictionary<byte, ImmutableArray<byte>> Options)
{
    public const byte BootRequest = 1;
    public const byte BootReply = 2;
    public const ushort BroadcastFlag = 0x8000;

    /// <summary>BOOTP's minimum message: some clients drop anything shorter.</summary>
    public const int MinimumLength = 300;

    /// <summary>Fixed header and magic cookie.</summary>
    public const int HeaderLength = 240;

    private const uint MagicCookie = 0x63825363;
    private const int HardwareOffset = 28;
    private const int OptionsOffset = 240;

    public DhcpMessageType? MessageType =>
        Options.TryGetValue(DhcpOption.MessageType, out var v) && v.Length == 1 && v[0] is >= 1 and <= 8 ? (DhcpMessageType)v[0] : null;

    public bool WantsBroadcast => (Flags & BroadcastFlag) != 0;

    /// <summary>The client's MAC address as aa:bb:cc:dd:ee:ff.</summary>
    public string HardwareText => string.Join(':', HardwareAddress.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    public IPAddress? AddressOption(byte code) =>
        Options.TryGetValue(code, out var v) && v.Length == 4 ? new IPAddress(v.AsSpan()) : null;

    /// <summary>Parses a request from a client. Returns null and a reason for anything that is not a well-formed Ethernet DHCP message.</summary>
    public static DhcpMessage? Parse(ReadOnlySpan<byte> data, out string error)
    {
        error = "";
        if (data.Length < HeaderLength)
        {
            error = $"{data.Length} bytes is shorter than a DHCP header ({HeaderLength})";
            return null;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(data[236..]) != MagicCookie)
        {
            error = "no DHCP magic cookie (a plain BOOTP message)";
            return null;
        }

        // Ethernet only: htype 1, hlen 6.
        if (data[1] != 1 || data[2] != 6)
        {
            error = $"hardware type {data[1]} length {data[2]} is not Ethernet";
            return null;
        }

        var options = ImmutableDictionary.CreateBuilder<byte, ImmutableArray<byte>>();
        var at = OptionsOffset;
        var ended = false;
        while (at < data.Length)
        {
            var code = data[at++];
            if (code == DhcpOption.Pad)
            {
                continue;
            }

            if (code == DhcpOption.End)
            {
                ended = true;
                break;
            }

            if (at >= data.Length || at + 1 + data[at] > data.Length)
            {
                error = $"option {code} at byte {at - 1} runs past the end of the message";
                return null;
            }

            var value = data.Slice(at + 1, data[at]);
            at += 1 + data[at];

            // RFC 3396: an option given more than once is the concatenation of its parts.
            options[code] = options.TryGetValue(code, out var earlier) ? [.. earlier, .. value] : [.. value];
        }

        if (!ended)
        {
            error = "the options have no end option (255)";
            return null;
        }

        return new DhcpMessage(
            data[0],
            BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[10..]),
            new IPAddress(data[12..16]),
            new IPAddress(data[16..20]),
            new IPAddress(data[20..24]),
            new IPAddress(data[24..28]),
            [.. data.Slice(HardwareOffset, 6)],
            options.ToImmutable());
    }

    /// <summary>The wire form: options in ascending code order after the message type, padded to <see cref="MinimumLength"/>.</summary>
    public byte[] Encode()
    {
        var optionBytes = 0;
        foreach (var (_, value) in Options)
        {
            optionBytes += 2 + value.Length;
        }

        var buffer = new byte[Math.Max(MinimumLength, OptionsOffset + optionBytes + 1)];
        var span = buffer.AsSpan();
        span[0] = Op;
        span[1] = 1;
        span[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], Seconds);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], Flags);
        ClientAddress.TryWriteBytes(span[12..], out _);
        YourAddress.TryWriteBytes(span[16..], out _);
        ServerAddress.TryWriteBytes(span[20..], out _);
        RelayAddress.TryWriteBytes(span[24..], out _);
        HardwareAddress.AsSpan().CopyTo(span[HardwareOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(span[236..], MagicCookie);
        var at = OptionsOffset;
        foreach (var code in Options.Keys.OrderBy(c => c == DhcpOption.MessageType ? -1 : c))
        {
            var value = Options[code];
            if (value.Length > 255)
            {
                throw new ArgumentException($"option {code} is {value.Length} bytes; at most 255 fit", nameof(Options));
            }

            span[at++] = code;
            span[at++] = (byte)value.Length;
            value.AsSpan().CopyTo(span[at..]);
            at += value.Length;
        }

        span[at] = DhcpOption.End;
        return buffer;
    }

    public static ImmutableArray<byte> Address(IPAddress address) => [.. address.GetAddressBytes()];

    public static ImmutableArray<byte> Seconds32(TimeSpan time) =>
        [.. BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness((uint)Math.Clamp(time.TotalSeconds, 0, uint.MaxValue)))];

    public static ImmutableArray<byte> Text(string text) => [.. Encoding.ASCII.GetBytes(text)];
}
