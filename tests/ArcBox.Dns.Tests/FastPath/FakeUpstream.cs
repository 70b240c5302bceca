using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.Server;

namespace ArcBox.Dns.Tests.FastPath;

/// <summary>An upstream resolver on loopback with fixed answers; counts the queries it gets.</summary>
internal sealed class FakeUpstream : IDisposable
{
    public const string PublicAddress = "198.51.100.7";
    private static readonly string BigText = string.Concat(Enumerable.Repeat("0123456789", 60));
    private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private int queries;

    public FakeUpstream()
    {
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        new Thread(Serve) { IsBackground = true, Name = "fake-upstream" }.Start();
    }

    public IPEndPoint EndPoint => (IPEndPoint)socket.LocalEndPoint!;

    public int Queries => Volatile.Read(ref queries);

    public void Dispose() => socket.Dispose();

    private static DomainName N(string s) => DomainName.Parse(s);

    private static (ReturnCode, DnsRecordBase[]) Answer(DomainName name, RecordType type) => (name.ToString().TrimEnd('.').ToLowerInvariant(), type) switch
    {
        ("www.example.org", RecordType.A) => (ReturnCode.NoError, [new ARecord(name, 60, IPAddress.Parse("203.0.113.10"))]),
        ("www.example.org", RecordType.Aaaa) => (ReturnCode.NoError, [new AaaaRecord(name, 7200, IPAddress.Parse("2001:db8::10"))]),
        ("alias.example.org", RecordType.A) => (ReturnCode.NoError, [new CNameRecord(name, 30, N("www.example.org")), new ARecord(N("www.example.org"), 60, IPAddress.Parse("203.0.113.10"))]),
        ("txt.example.org", RecordType.Txt) => (ReturnCode.NoError, [new TxtRecord(name, 100, "upstream text")]),
        ("big.example.org", RecordType.Txt) => (ReturnCode.NoError, [new TxtRecord(name, 100, [BigText[..250], BigText[250..500], BigText[500..]])]),
        ("allowed.example.com", RecordType.A) => (ReturnCode.NoError, [new ARecord(name, 60, IPAddress.Parse(PublicAddress))]),
        ("private.example.com", RecordType.A) => (ReturnCode.NoError, [new ARecord(name, 60, IPAddress.Parse("10.9.9.9"))]),
        (_, RecordType.A or RecordType.Aaaa or RecordType.Txt) when name.ToString().Contains("example", StringComparison.OrdinalIgnoreCase) => (ReturnCode.NxDomain, []),
        _ => (ReturnCode.Refused, []),
    };

    private void Serve()
    {
        var buffer = new byte[4096];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (true)
        {
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer, ref from);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref queries);
            var query = DnsMessage.Parse(new ArraySegment<byte>(buffer, 0, length));
            var response = query.CreateResponseInstance();
            var (code, records) = Answer(query.Questions[0].Name, query.Questions[0].RecordType);
            response.ReturnCode = code;
            response.AnswerRecords.AddRange(records);
            socket.SendTo(MessageEncoder.Bytes(response), from);
        }
    }
}
