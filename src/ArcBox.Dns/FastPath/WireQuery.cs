using System.Buffers.Binary;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// A query read straight from the datagram, accepted only in the plainest form a stub resolver sends: QR=0,
/// opcode QUERY, one question of class IN whose name is uncompressed letters, digits, '-' and '_', no answer or
/// authority records, and at most one additional record that is a well-formed OPT; nothing after it. Anything
/// else goes to the ARSoft.Tools.Net slow path, which stays the reference for what a response looks like.
/// </summary>
internal readonly struct WireQuery
{
    public const int HeaderLength = 12;

    /// <summary>The OPT record a response carries: root name, type, class, TTL, RDLENGTH, no options.</summary>
    public const int OptLength = 11;

    /// <summary>The largest datagram the resolver sends (RFC 6891's recommended maximum EDNS payload).</summary>
    public const int MaxUdp = 4096;

    private const int MaxName = 255;
    private const ushort ClassInternet = 1;
    private const ushort TypeOpt = 41;
    private const ushort OptionCookie = 10;
    private const ushort OptionPadding = 12;

    private WireQuery(ushort flags, int questionEnd, ushort type, bool hasOpt, ushort udpPayloadSize, byte version, bool dnsSecOk)
    {
        Flags = flags;
        QuestionEnd = questionEnd;
        Type = type;
        HasOpt = hasOpt;
        UdpPayloadSize = udpPayloadSize;
        Version = version;
        DnsSecOk = dnsSecOk;
    }

    public ushort Flags { get; }

    /// <summary>Offset just past QTYPE and QCLASS; the name is [12, QuestionEnd - 4).</summary>
    public int QuestionEnd { get; }

    public int NameLength => QuestionEnd - 4 - HeaderLength;

    public ushort Type { get; }

    public bool HasOpt { get; }

    public ushort UdpPayloadSize { get; }

    public byte Version { get; }

    public bool DnsSecOk { get; }

    /// <summary>The largest response the client accepts over UDP (512 without EDNS).</summary>
    public int UdpLimit => HasOpt ? Math.Clamp((int)UdpPayloadSize, 512, MaxUdp) : 512;

    public static bool TryParse(ReadOnlySpan<byte> p, out WireQuery query)
    {
        query = default;
        if (p.Length < HeaderLength + 5)
        {
            return false;
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        var qd = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        var an = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
        var ns = BinaryPrimitives.ReadUInt16BigEndian(p[8..]);
        var ar = BinaryPrimitives.ReadUInt16BigEndian(p[10..]);

        // QR (0x8000) clear and opcode (0x7800) QUERY.
        if ((flags & 0xf800) != 0 || qd != 1 || an != 0 || ns != 0 || ar > 1)
        {
            return false;
        }

        var pos = HeaderLength;
        while (true)
        {
            if (pos >= p.Length)
            {
                return false;
            }

            int label = p[pos];
            if (label == 0)
            {
                pos++;
                break;
            }

            // 0xc0 pointers, 0x40/0x80 extended labels and lengths over 63 all have a high bit set.
            if (label > 63 || pos + 1 + label > p.Length || pos + 1 + label - HeaderLength >= MaxName || !Plain(p.Slice(pos + 1, label)))
            {
                return false;
            }

            pos += 1 + label;
        }

        if (pos + 4 > p.Length || BinaryPrimitives.ReadUInt16BigEndian(p[(pos + 2)..]) != ClassInternet)
        {
            return false;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(p[pos..]);
        var questionEnd = pos + 4;
        if (ar == 0)
        {
            query = new WireQuery(flags, questionEnd, type, false, 0, 0, false);
            return questionEnd == p.Length;
        }

        // OPT: root name, TYPE 41, CLASS = UDP payload size, TTL = extended RCODE, VERSION, DO|Z, RDLENGTH, options.
        var opt = p[questionEnd..];
        if (opt.Length < OptLength || opt[0] != 0 || BinaryPrimitives.ReadUInt16BigEndian(opt[1..]) != TypeOpt)
        {
            return false;
        }

        var rdLength = BinaryPrimitives.ReadUInt16BigEndian(opt[9..]);
        if (OptLength + rdLength != opt.Length || !PlainOptions(opt[OptLength..]))
        {
            return false;
        }

        query = new WireQuery(flags, questionEnd, type, true, BinaryPrimitives.ReadUInt16BigEndian(opt[3..]), opt[6], (opt[7] & 0x80) != 0);
        return true;
    }

    /// <summary>The name lower-cased, one char per wire byte (length bytes included, so labels stay distinct).</summary>
    public void WriteName(ReadOnlySpan<byte> datagram, Span<char> destination)
    {
        var name = datagram.Slice(HeaderLength, NameLength);
        for (var i = 0; i < name.Length; i++)
        {
            var b = name[i];
            destination[i] = (char)(b is >= (byte)'A' and <= (byte)'Z' ? b | 0x20 : b);
        }
    }

    private static bool Plain(ReadOnlySpan<byte> label)
    {
        foreach (var b in label)
        {
            if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Options ARSoft.Tools.Net parses for any length (cookies as dig sends them, padding), each exactly filling
    /// the record; others go the slow path, which ignores or rejects them as it always has.
    /// </summary>
    private static bool PlainOptions(ReadOnlySpan<byte> options)
    {
        while (options.Length > 0)
        {
            if (options.Length < 4)
            {
                return false;
            }

            var code = BinaryPrimitives.ReadUInt16BigEndian(options);
            var length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            var valid = code switch
            {
                OptionCookie => length == 8 || length is >= 16 and <= 40,
                OptionPadding => true,
                _ => false,
            };
            if (!valid || 4 + length > options.Length)
            {
                return false;
            }

            options = options[(4 + length)..];
        }

        return true;
    }
}
