using System.Reflection;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.FastPath;

namespace ArcBox.Dns.Server;

/// <summary>The slow path's wire format: ARSoft.Tools.Net's encoder, with truncation for UDP.</summary>
internal static class MessageEncoder
{
    // ARSoft.Tools.Net 3.6.1 (pinned) encodes only through an internal method; bound once, checked at start.
    private static readonly Func<DnsMessageBase, DnsRawPackage> Encode = BindEncoder();

    public static ArraySegment<byte> Bytes(DnsMessageBase message) => Encode(message).ToArraySegment(false);

    /// <summary>The encoded response; over the client's UDP size it is truncated (TC) so that the client retries over TCP.</summary>
    public static ArraySegment<byte> ForUdp(DnsMessage query, DnsMessage response)
    {
        var limit = query.IsEDnsEnabled && query.EDnsOptions is { } edns ? Math.Clamp((int)edns.UdpPayloadSize, 512, WireQuery.MaxUdp) : 512;
        var bytes = Bytes(response);
        if (bytes.Count <= limit)
        {
            return bytes;
        }

        response.AnswerRecords.Clear();
        response.AuthorityRecords.Clear();
        response.AdditionalRecords.Clear();
        response.IsTruncated = true;
        return Bytes(response);
    }

    private static Func<DnsMessageBase, DnsRawPackage> BindEncoder()
    {
        var method = typeof(DnsMessageBase).GetMethod("Encode", BindingFlags.Instance | BindingFlags.NonPublic, null, Type.EmptyTypes, null)
            ?? throw new InvalidOperationException("ARSoft.Tools.Net has no DnsMessageBase.Encode(): the pinned version 3.6.1 is required");
        return method.CreateDelegate<Func<DnsMessageBase, DnsRawPackage>>();
    }
}
