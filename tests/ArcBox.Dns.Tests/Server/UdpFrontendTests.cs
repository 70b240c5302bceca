using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.Lookup;
using ArcBox.Dns.Server;
using ArcBox.Dns.Tests.FastPath;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Parsing;

namespace ArcBox.Dns.Tests.Server;

/// <summary>The resolver on real loopback sockets: batches of datagrams in (recvmmsg) and answers out (sendmmsg).</summary>
public sealed class UdpFrontendTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public void A_burst_of_queries_gets_one_answer_each_and_garbage_or_oversized_datagrams_in_between_disturb_nothing(string address)
    {
        var loopback = IPAddress.Parse(address);
        if (!Socket.OSSupportsIPv6 && loopback.AddressFamily == AddressFamily.InterNetworkV6)
        {
            Assert.Skip("no IPv6 on this machine");
        }

        var port = FreePort(loopback);
        var view = new SandboxDnsView("lo", new SandboxAddresses(IPAddress.Loopback, IPAddress.IPv6Loopback), PolicyParser.Parse(Harness.WebPolicy, "lo.yaml").Policy!);
        var snapshot = ResolverSnapshot.Create(IPAddress.Parse("10.0.0.1"), null, [view], []);
        var settings = new DnsSettings([], TimeSpan.FromSeconds(1), 30, 3600, 1_000_000, 100);
        using var server = new ResolverServer([new IPEndPoint(loopback, port)], settings, snapshot, (_, _) => Task.CompletedTask);
        server.Start();

        using var client = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        client.Connect(loopback, port);
        client.ReceiveTimeout = 2000;
        var names = new[] { "db.internal", "a.svc.internal", "alias.internal", "nope.arcbox.internal", "evil.com" };
        foreach (var name in names)
        {
            client.Send(Harness.Query(name, id: 1));
            client.Receive(new byte[4096]);
        }

        const int burst = 200;
        for (var id = 0; id < burst; id++)
        {
            client.Send(Harness.Query(names[id % names.Length], id: (ushort)(100 + id), edns: id % 2 == 0));
            if (id % 50 == 0)
            {
                client.Send([1, 2, 3]);
            }

            if (id == 120)
            {
                // Larger than the receive buffer: dropped whole (as before, uncounted), never parsed in part.
                client.Send([.. Harness.Query("db.internal", id: 9999), .. new byte[5000]]);
            }
        }

        var ids = new HashSet<ushort>();
        var buffer = new byte[4096];
        for (var i = 0; i < burst; i++)
        {
            var length = client.Receive(buffer);
            var response = DnsMessage.Parse(new ArraySegment<byte>(buffer, 0, length));
            var expected = names[(response.TransactionID - 100) % names.Length];
            Assert.Equal(expected, response.Questions[0].Name.ToString().TrimEnd('.'));
            Assert.True(ids.Add(response.TransactionID));
        }

        Assert.Equal(4, server.Malformed);
        Assert.Equal(burst + names.Length, server.Log.Last);
    }

    private static int FreePort(IPAddress address)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
