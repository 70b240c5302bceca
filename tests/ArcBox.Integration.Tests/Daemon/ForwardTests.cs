using System.Net.Sockets;
using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Port forwards through the kernel: who can reach them, what the sandbox sees, and that nothing else opens.</summary>
public class ForwardTests
{
    private const string Closed = "network:\n  outbound:\n    - protocol: udp\n      port: 53\n";

    [Fact]
    public void Localhost_forward_serves_the_host_only_and_nothing_else_of_the_sandbox()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("fwdlo");
        net.Create("vm", Closed);
        net.Serve(net.NamespaceOf("vm"), tcp: "3000,3001");
        Assert.Equal(0, net.Arcbox("forward", "localhost:8080 => vm:3000").ExitCode);
        Assert.Equal(0, net.Arcbox("forward", "localhost:8081", "=>", "vm:3002").ExitCode);

        var host = TestNetwork.NetnsPath(net.Host);
        var fromHost = net.Probe(host, ["tcp:127.0.0.1:8080", "tcp:[::1]:8080", "tcp:127.0.0.1:8081", "tcp:10.0.0.2:3000", "tcp:10.0.0.2:3001"], 700);
        Assert.StartsWith("open arcbox_3000_10.0.0.1", fromHost["tcp:127.0.0.1:8080"], StringComparison.Ordinal);

        // localhost covers IPv6 loopback too, through the daemon's relay (the kernel cannot translate ::1).
        Assert.StartsWith("open arcbox_3000_10.0.0.1", fromHost["tcp:[::1]:8080"], StringComparison.Ordinal);

        // A forward to a port nobody listens on is a closed port (reset), not a hang.
        Assert.Equal("closed refused", fromHost["tcp:127.0.0.1:8081"]);

        // The forward opens only itself: the sandbox's other ports, and the same port directly, stay closed.
        Assert.Equal("timeout", fromHost["tcp:10.0.0.2:3000"]);
        Assert.Equal("timeout", fromHost["tcp:10.0.0.2:3001"]);

        // Not from the internet, not even to the host's address on that port.
        Assert.False(net.Reaches(TestNetwork.NetnsPath(net.Internet), $"tcp:{TestNetwork.HostUplink}:8080", 700));

        var list = JsonDocument.Parse(net.Arcbox("forward", "ls", "--json").EnsureSuccess("ls").Stdout).RootElement;
        Assert.Equal(4, list.GetArrayLength());
        Assert.Equal(0, net.Arcbox("forward", "rm", "localhost:8080").ExitCode);
        Assert.False(net.Reaches(host, "tcp:127.0.0.1:8080", 700));
        Assert.False(net.Reaches(host, "tcp:[::1]:8080", 700));
    }

    [Fact]
    public void Any_address_forward_serves_the_internet_with_the_real_client_address_tcp_and_udp()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("fwdany");
        net.Create("vm", Closed);
        net.Serve(net.NamespaceOf("vm"), tcp: "3000", udp: "5300");
        net.Arcbox("forward", "0.0.0.0:8080", "vm:3000").EnsureSuccess("tcp forward");
        net.Arcbox("forward", "0.0.0.0:5353", "vm:5300", "--udp").EnsureSuccess("udp forward");
        var inet = net.Probe(TestNetwork.NetnsPath(net.Internet), [$"tcp:{TestNetwork.HostUplink}:8080", $"udp:{TestNetwork.HostUplink}:5353", "tcp:10.0.0.2:3000"], 700);
        Assert.Equal($"open arcbox_3000_{TestNetwork.InternetRouter}", inet[$"tcp:{TestNetwork.HostUplink}:8080"]);
        Assert.Equal($"open arcbox_5300_{TestNetwork.InternetRouter}", inet[$"udp:{TestNetwork.HostUplink}:5353"]);
        Assert.Equal("timeout", inet["tcp:10.0.0.2:3000"]);

        // Kept across a restart of the daemon; removed with the sandbox.
        net.KillDaemon();
        net.StartDaemon();
        Assert.True(net.Reaches(TestNetwork.NetnsPath(net.Internet), $"tcp:{TestNetwork.HostUplink}:8080"));
        net.Remove("vm");
        Assert.Equal("[]", net.Arcbox("forward", "ls", "--json").EnsureSuccess("ls").Stdout.Trim());
        Assert.DoesNotContain("10.0.0.2 . 3000", net.NftList("ruleset"), StringComparison.Ordinal);
    }

    [Fact]
    public void Hairpin_through_the_host_address_obeys_the_senders_outbound_policy()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("fwdhp");
        net.Create("vm", Closed);
        net.Create("allowed", "network:\n  outbound:\n    - protocol: tcp\n      port: 3000\n      to: sandbox:vm\n");
        net.Create("denied", "network:\n  outbound:\n    - protocol: tcp\n      port: 8080\n");
        net.Serve(net.NamespaceOf("vm"), tcp: "3000");
        net.Arcbox("forward", "0.0.0.0:8080", "vm:3000").EnsureSuccess("forward");
        Assert.Equal("open arcbox_3000_10.0.0.3", net.Probe(net.NamespaceOf("allowed"), [$"tcp:{TestNetwork.HostUplink}:8080"])[$"tcp:{TestNetwork.HostUplink}:8080"]);
        Assert.False(net.Reaches(net.NamespaceOf("denied"), $"tcp:{TestNetwork.HostUplink}:8080", 700));
    }

    [Fact]
    public void Ipv6_clients_reach_an_any_address_forward()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("fwd6", dualStack: true);
        net.Create("vm", Closed);
        net.Serve(net.NamespaceOf("vm"), tcp: "3000");
        net.Arcbox("forward", "[::]:8080", "vm:3000").EnsureSuccess("forward");
        var r = net.Probe(TestNetwork.NetnsPath(net.Internet), ["tcp:[2001:db8:1::1]:8080"], 1000);
        Assert.Equal("open arcbox_3000_2001:db8:1::2", r["tcp:[2001:db8:1::1]:8080"]);
    }

    [Fact]
    public void Conflicts_and_bad_specs_are_refused_and_change_nothing()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("fwdbad");
        net.Create("vm", Closed);
        net.Arcbox("forward", "0.0.0.0:8080", "vm:3000").EnsureSuccess("forward");
        net.Background(TestNetwork.NetnsPath(net.Host), "/usr/bin/python3", "-c", "import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',9000))\ns.listen()\ntime.sleep(60)");
        net.Host.WaitForListener(ProtocolType.Tcp, "0.0.0.0", 9000);
        var before = Ruleset(net);
        foreach (var (args, code, message) in new (string[], int, string)[]
        {
            (["forward", "localhost:8080", "vm:3000"], 1, "already forwarded"),
            (["forward", "0.0.0.0:9000", "vm:3000"], 1, "in use by a process on the host"),
            (["forward", "localhost:8090", "nobody:3000"], 1, "no sandbox named 'nobody'"),
            (["forward", "[::1]:8090", "vm:3000", "--udp"], 1, "TCP only"),
            (["forward", "[::]:8090", "vm:3000"], 1, "IPv4-only"),
            (["forward", "203.0.113.99:8090", "vm:3000"], 1, "not an address of this host"),
            (["forward", "localhost:80x", "vm:3000"], 2, "port must be a number"),
            (["forward", "localhost:8090"], 2, "expected HOSTADDR:PORT SANDBOX:PORT"),
            (["forward", "localhost:8090", "vm"], 2, "expected SANDBOX:PORT"),
            (["forward", "rm", "localhost:7777"], 1, "no forward on"),
        })
        {
            var r = net.Arcbox(args);
            Assert.True(r.ExitCode == code, $"{string.Join(' ', args)}: {r.ExitCode} {r.Stderr}");
            Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(before, Ruleset(net));
    }

    private static string Ruleset(TestNetwork net) =>
        System.Text.RegularExpressions.Regex.Replace(net.NftList("ruleset"), @"packets \d+ bytes \d+", "");
}
