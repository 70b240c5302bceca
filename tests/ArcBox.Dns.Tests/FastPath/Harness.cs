using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.FastPath;
using ArcBox.Dns.Lookup;
using ArcBox.Dns.Server;
using ArcBox.Policy;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Parsing;

namespace ArcBox.Dns.Tests.FastPath;

/// <summary>
/// A resolver without sockets: datagrams go through the fast path and, when it passes them on, the slow path,
/// as the UDP frontend does; an upstream on loopback; a clock the test moves.
/// </summary>
internal sealed class Harness : IDisposable
{
    public static readonly IPAddress Web = IPAddress.Parse("10.0.0.2");
    public static readonly IPAddress Web6 = IPAddress.Parse("fd00::2");
    public static readonly IPAddress Db = IPAddress.Parse("10.0.0.3");
    public static readonly IPAddress Egress = IPAddress.Parse("10.0.0.4");

    public const string WebPolicy = """
        network:
          outbound:
            - protocol: udp
              port: 53
          dns:
            records:
              db.internal: 10.0.0.5
              "*.svc.internal": [10.0.0.6, "fd00::6"]
              alias.internal: { cname: db.internal }
              chain.internal: { cname: alias.internal }
              out.internal: { cname: www.example.org }
              info.internal: { txt: "hello world" }
            resolve: ["*.example.org"]
        """;

    private const string EgressPolicy = """
        network:
          outbound:
            - protocol: udp
              port: 53
            - protocol: tcp
              port: 443
              domains: [allowed.example.com, private.example.com]
        """;

    public Harness(int cacheSize = 1024, int queriesPerSecond = 1_000_000, int maxTtl = 3600)
    {
        var settings = new DnsSettings([], TimeSpan.FromSeconds(2), 30, maxTtl, queriesPerSecond, 100);
        Server = new ResolverServer([], settings, Snapshot(WebPolicy), (sandbox, list) =>
        {
            lock (Admitted)
            {
                Admitted.Add((sandbox, list));
            }

            return Task.CompletedTask;
        }, Time, cacheSize);
    }

    public FakeUpstream Upstream { get; } = new();

    public ManualTime Time { get; } = new();

    public ResolverServer Server { get; }

    public List<(string Sandbox, IReadOnlyList<Admission> Admissions)> Admitted { get; } = [];

    public ResolverSnapshot Snapshot(string webPolicy) => ResolverSnapshot.Create(
        IPAddress.Parse("10.0.0.1"),
        IPAddress.Parse("fd00::1"),
        [View("web", Web, webPolicy, Web6), View("db", Db, "network: {}\n"), View("egress", Egress, EgressPolicy)],
        [Upstream.EndPoint]);

    public static byte[] Query(string name, RecordType type = RecordType.A, ushort id = 0x1234, bool edns = false, bool dnsSecOk = false, ushort payload = 1232, bool rd = true, bool cd = false, bool cookie = false)
    {
        var query = new DnsMessage { TransactionID = id, IsQuery = true, IsRecursionDesired = rd, IsCheckingDisabled = cd, IsEDnsEnabled = edns };
        query.Questions.Add(new DnsQuestion(DomainName.Parse(name), type, RecordClass.INet));
        if (edns)
        {
            query.EDnsOptions!.UdpPayloadSize = payload;
            query.IsDnsSecOk = dnsSecOk;
            if (cookie)
            {
                query.EDnsOptions.Options.Add(new CookieOption([1, 2, 3, 4, 5, 6, 7, 8]));
            }
        }

        return [.. MessageEncoder.Bytes(query)];
    }

    /// <summary>As the frontend handles a datagram: the response (null for silence) and which path gave it.</summary>
    public (byte[]? Response, Disposition How) Ask(byte[] datagram, IPAddress? from = null)
    {
        var response = new byte[WireQuery.MaxUdp];
        var how = Server.Receive(datagram, Address(from), response, out var written, out var slow);
        return how switch
        {
            Disposition.Answered => (response[..written], how),
            Disposition.Slow => (Bytes(Server.AnswerSlow(new ArraySegment<byte>(datagram), slow)), how),
            _ => (null, how),
        };
    }

    /// <summary>The slow path's response to a datagram, whatever the cache holds (and without storing it).</summary>
    public byte[]? SlowOnly(byte[] datagram, IPAddress? from = null)
    {
        var state = Server.FastState();
        Assert.True(state.TryFind(SourceKey.Of(from ?? Web), out var slot));
        return Bytes(Server.AnswerSlow(new ArraySegment<byte>([.. datagram]), new SlowQuery(state, slot, null, default)));
    }

    /// <summary>The raw sockaddr the kernel reports for a source (what .NET's SocketAddress holds on Linux).</summary>
    public static byte[] Address(IPAddress? from)
    {
        var address = new IPEndPoint(from ?? Web, 40000).Serialize();
        return address.Buffer.Span[..address.Size].ToArray();
    }

    public void Dispose()
    {
        Server.Dispose();
        Upstream.Dispose();
    }

    private static byte[]? Bytes(ValueTask<ArraySegment<byte>?> answer) => answer.AsTask().GetAwaiter().GetResult() is { } bytes ? [.. bytes] : null;

    private static SandboxDnsView View(string name, IPAddress ip, string yaml, IPAddress? ip6 = null) =>
        new(name, new SandboxAddresses(ip, ip6), PolicyParser.Parse(yaml, name + ".yaml").Policy ?? throw new InvalidOperationException(yaml));
}
