using System.Buffers.Binary;
using ArcBox.Dns.Server;

namespace ArcBox.Dns.FastPath;

/// <summary>
/// Builds the response to a query from a cached answer section, byte for byte what the slow path encodes:
/// ARSoft.Tools.Net's <c>CreateResponseInstance</c> plus the resolver's RA, the question as received, and the OPT
/// record it creates for an EDNS query (no options, the query's payload size, version and DO bit).
/// </summary>
internal static class ResponseWriter
{
    private const ushort Response = 0x8000;
    private const ushort RecursionDesired = 0x0100;
    private const ushort RecursionAvailable = 0x0080;
    private const ushort CheckingDisabled = 0x0010;

    /// <returns>The response length, or -1 when it would not fit the client's UDP limit (the slow path truncates).</returns>
    public static int Write(ReadOnlySpan<byte> datagram, in WireQuery query, CachedResponse entry, int age, int maxTtl, Span<byte> output)
    {
        var answersAt = query.QuestionEnd;
        var length = answersAt + entry.Answers.Length + (query.HasOpt ? WireQuery.OptLength : 0);
        if (length > query.UdpLimit || length > output.Length)
        {
            return -1;
        }

        // ID, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT; then the question exactly as asked (0x20 case kept).
        datagram[..2].CopyTo(output);
        var flags = (ushort)(Response | (query.Flags & (RecursionDesired | CheckingDisabled)) | RecursionAvailable | entry.ReturnCode);
        BinaryPrimitives.WriteUInt16BigEndian(output[2..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(output[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(output[6..], entry.AnswerCount);
        BinaryPrimitives.WriteUInt16BigEndian(output[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(output[10..], (ushort)(query.HasOpt ? 1 : 0));
        datagram[WireQuery.HeaderLength..answersAt].CopyTo(output[WireQuery.HeaderLength..]);
        entry.Answers.CopyTo(output[answersAt..]);

        // Upstream TTLs count down as the answer cache ages them, then the resolver's clamp (A, AAAA, CNAME only).
        foreach (var (offset, ttl) in entry.Ttls)
        {
            BinaryPrimitives.WriteInt32BigEndian(output[(answersAt + offset)..], Math.Min(maxTtl, AnswerCache.AgedTtl(ttl, age)));
        }

        if (query.HasOpt)
        {
            // Root name, TYPE OPT, CLASS = the query's payload size, extended RCODE 0, VERSION, DO, Z, RDLENGTH 0.
            var opt = output.Slice(length - WireQuery.OptLength, WireQuery.OptLength);
            opt[0] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(opt[1..], 41);
            BinaryPrimitives.WriteUInt16BigEndian(opt[3..], query.UdpPayloadSize);
            opt[5] = 0;
            opt[6] = query.Version;
            opt[7] = (byte)(query.DnsSecOk ? 0x80 : 0);
            opt[8] = 0;
            opt[9] = 0;
            opt[10] = 0;
        }

        return length;
    }
}
