using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.FastPath;

namespace ArcBox.Dns.Tests.FastPath;

/// <summary>Odd and malformed datagrams: never answered from the cache, never an exception; the slow path decides.</summary>
public sealed class WireQueryTests : IDisposable
{
    private readonly Harness h = new();

    public static TheoryData<string, byte[]> Odd()
    {
        var plain = Harness.Query("db.internal");
        var edns = Harness.Query("db.internal", edns: true);
        var data = new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "truncated header", plain[..5] },
            { "header only", plain[..12] },
            { "name without its end", plain[..20] },
            { "no class", plain[..^2] },
            { "trailing garbage", [.. plain, 0xde, 0xad] },
            { "trailing garbage after the OPT record", [.. edns, 0] },
            { "a response", With(plain, 2, (byte)(plain[2] | 0x80)) },
            { "opcode STATUS", With(plain, 2, (byte)(plain[2] | 0x10)) },
            { "QDCOUNT 0", With(plain, 5, 0) },
            { "QDCOUNT 2", With(plain, 5, 2) },
            { "an answer record", With(plain, 7, 1) },
            { "an authority record", With(plain, 9, 1) },
            { "ARCOUNT 1 without a record", With(plain, 11, 1) },
            { "ARCOUNT 2", With(edns, 11, 2) },
            { "class CHAOS", With(plain, plain.Length - 1, 3) },
            { "OPT with a wrong RDLENGTH", With(edns, edns.Length - 1, 4) },
            { "OPT with a name", [.. edns[..^11], 1, (byte)'x', 0, .. edns[^10..]] },
            { "an option it does not know", [.. With(edns, edns.Length - 1, 6)[..], 0, 8, 0, 2, 0, 0] },
            { "a cookie of a bad length", [.. With(edns, edns.Length - 1, 7)[..], 0, 10, 0, 3, 1, 2, 3] },
            { "compression pointer to the name", [.. plain[..12], 0xc0, 0x0c, 0, 1, 0, 1] },
            { "pointer after a label", [.. plain[..12], 2, (byte)'d', (byte)'b', 0xc0, 0x0c, 0, 1, 0, 1] },
            { "extended label type", [.. plain[..12], 0x41, 1, 0xff, 0, 0, 1, 0, 1] },
            { "label of 64", [.. plain[..12], 64, .. Enumerable.Repeat((byte)'a', 64), 0, 0, 1, 0, 1] },
            { "label longer than the packet", [.. plain[..12], 40, (byte)'a', (byte)'b'] },
            { "name longer than 255", [.. plain[..12], .. Enumerable.Range(0, 5).SelectMany(_ => (byte[])[63, .. Enumerable.Repeat((byte)'b', 63)]), 0, 0, 1, 0, 1] },
            { "a dot inside a label", [.. plain[..12], 4, (byte)'d', (byte)'.', (byte)'b', (byte)'x', 0, 0, 1, 0, 1] },
            { "bytes above 0x7f", [.. plain[..12], 2, 0xc3, 0xa9, 0, 0, 1, 0, 1] },
            { "a space", [.. plain[..12], 3, (byte)'a', (byte)' ', (byte)'b', 0, 0, 1, 0, 1] },
        };
        return data;
    }

    public void Dispose() => h.Dispose();

    [Theory]
    [MemberData(nameof(Odd))]
    public void Odd_datagrams_are_never_answered_from_the_cache(string what, byte[] datagram)
    {
        Assert.NotNull(what);

        // Everything the odd datagrams could be mistaken for is cached first.
        foreach (var seed in new[] { Harness.Query("db.internal"), Harness.Query("db.internal", edns: true), Harness.Query("db", RecordType.A) })
        {
            h.Ask(seed);
        }

        Assert.False(WireQuery.TryParse(datagram, out _));
        var malformed = h.Server.Malformed;
        var (response, how) = h.Ask(datagram);
        Assert.Equal(Disposition.Slow, how);
        if (response is null)
        {
            Assert.Equal(malformed + 1, h.Server.Malformed);
        }
        else
        {
            Assert.Equal(h.SlowOnly(datagram), response);
        }
    }

    [Fact]
    public void Datagrams_from_outside_the_sandboxes_are_dropped_before_parsing()
    {
        var (response, how) = h.Ask([1, 2, 3], System.Net.IPAddress.Parse("192.0.2.1"));
        Assert.Null(response);
        Assert.Equal(Disposition.Dropped, how);
        Assert.Equal(0, h.Server.Malformed);
    }

    [Fact]
    public void Plain_queries_parse_as_stub_resolvers_send_them()
    {
        Assert.True(WireQuery.TryParse(Harness.Query("Db.Internal", RecordType.Aaaa, cd: true), out var q));
        Assert.Equal((28, false, 512, 12 + 13 + 4), (q.Type, q.HasOpt, q.UdpLimit, q.QuestionEnd));
        Assert.True(WireQuery.TryParse(Harness.Query("db.internal", edns: true, dnsSecOk: true, payload: 1232, cookie: true), out q));
        Assert.Equal((true, 1232, true), (q.HasOpt, q.UdpLimit, q.DnsSecOk));
        Assert.True(WireQuery.TryParse(Harness.Query("x", edns: true, payload: 9000), out q));
        Assert.Equal(WireQuery.MaxUdp, q.UdpLimit);
    }

    private static byte[] With(byte[] datagram, int index, byte value)
    {
        var copy = datagram.ToArray();
        copy[index] = value;
        return copy;
    }
}
