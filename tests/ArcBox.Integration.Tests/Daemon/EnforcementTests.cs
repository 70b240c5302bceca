using ArcBox.Testing;
using ArcBox.Testing.Daemon;
namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Every kind of rule, allowed and denied, with real TCP, UDP and ICMP through the kernel.</summary>
public class EnforcementTests
{
    [Fact]
    public void Every_rule_kind_allows_what_it_names_and_nothing_else()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("rules");
        net.Create("a", """
            network:
              outbound:
                - protocol: tcp
                  port: 80
                  to: 203.0.113.0/28
                - protocol: udp
                  ports: ["5000-5010"]
                - protocol: icmp
                  to: internet
                - protocol: tcp
                  port: 7000
                  to: sandbox:b
                - protocol: udp
                  port: 7001
                  to: network
                - protocol: tcp
                  port: 2222
                  to: host
            """);
        net.Create("b", """
            network:
              inbound:
                - from: sandbox:a
                  protocol: tcp
                  port: 7000
                - from: 10.0.0.0/24
                  protocol: udp
                  port: 7001
                - from: internet
                  protocol: tcp
                  port: 8443
                - from: host
                  protocol: tcp
                  port: 9100
            """);
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,81,8443", udp: "5005,5011");
        net.Serve(net.NamespaceOf("b"), tcp: "7000,7002,8443,9100,9101", udp: "7001");
        net.Serve(TestNetwork.NetnsPath(net.Host), tcp: "2222,2223");

        var a = net.Probe(net.NamespaceOf("a"),
        [
            "tcp:203.0.113.10:80", "tcp:203.0.113.22:80", "tcp:203.0.113.10:81",
            "udp:203.0.113.10:5005", "udp:203.0.113.10:5011",
            "icmp:203.0.113.10", "icmp:10.0.0.3",
            "tcp:10.0.0.3:7000", "tcp:10.0.0.3:7002",
            "udp:10.0.0.3:7001",
            "tcp:10.0.0.1:2222", "tcp:198.51.100.1:2222", "tcp:10.0.0.1:2223",
        ], 700);
        Expect(a, open: ["tcp:203.0.113.10:80", "udp:203.0.113.10:5005", "icmp:203.0.113.10", "tcp:10.0.0.3:7000", "udp:10.0.0.3:7001", "tcp:10.0.0.1:2222", "tcp:198.51.100.1:2222"]);

        // Inbound: from the internet on 8443 only; from the host itself only on 9100.
        var inet = net.Probe(TestNetwork.NetnsPath(net.Internet), ["tcp:10.0.0.3:8443", "tcp:10.0.0.3:7000", "icmp:10.0.0.3"], 700);
        Expect(inet, open: ["tcp:10.0.0.3:8443"]);
        var host = net.Probe(TestNetwork.NetnsPath(net.Host), ["tcp:10.0.0.3:9100", "tcp:10.0.0.3:9101", "tcp:10.0.0.2:9100"], 700);
        Expect(host, open: ["tcp:10.0.0.3:9100"]);
    }

    [Fact]
    public void Dual_stack_filters_ipv6_as_strictly_as_ipv4()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("dual", dualStack: true);
        var a = net.Create("a", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n    - protocol: tcp\n      port: 7000\n      to: sandbox:b\n");
        var b = net.Create("b", "network:\n  inbound:\n    - from: sandbox:a\n      protocol: tcp\n      port: 7000\n");
        Assert.StartsWith("fd00:ab::", a.GetProperty("ipv6").GetString(), StringComparison.Ordinal);
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,81");
        net.Serve(net.NamespaceOf("b"), tcp: "7000,7001");
        var b6 = b.GetProperty("ipv6").GetString();
        var results = net.Probe(net.NamespaceOf("a"),
        [
            $"tcp:[{TestNetwork.WebServer6}]:80", $"tcp:[{TestNetwork.WebServer6}]:81", $"tcp:[{b6}]:7000", $"tcp:[{b6}]:7001",
            "tcp:[fd00:ab::1]:22", $"icmp:{TestNetwork.WebServer6}",
        ], 700);
        Expect(results, open: [$"tcp:[{TestNetwork.WebServer6}]:80", $"tcp:[{b6}]:7000"]);
        Assert.Contains(a.GetProperty("ipv6").GetString()!, results[$"tcp:[{b6}]:7000"], StringComparison.Ordinal);
    }

    /// <summary>`to: 0.0.0.0/0` ("anywhere") reaches the internet and private ranges, but not the metadata service a
    /// cloud host answers on 169.254.169.254: only a rule that names it does (issue 21).</summary>
    [Fact]
    public void A_covering_cidr_does_not_reach_the_metadata_address_and_one_that_names_it_does()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("meta");
        net.Internet.Exec("ip", "addr", "add", "169.254.169.254/32", "dev", "lo").EnsureSuccess("metadata address");
        net.Internet.Exec("ip", "addr", "add", "192.168.4.4/32", "dev", "lo").EnsureSuccess("private address");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        net.Create("web", "network:\n  outbound:\n    - to: [0.0.0.0/0]\n      ports: [80]\n");
        var specs = new[] { $"tcp:{TestNetwork.WebServer}:80", "tcp:192.168.4.4:80", "tcp:169.254.169.254:80" };
        Expect(net.Probe(net.NamespaceOf("web"), specs, 700), open: [$"tcp:{TestNetwork.WebServer}:80", "tcp:192.168.4.4:80"]);
        var explain = System.Text.Json.JsonDocument.Parse(net.Arcbox("policy", "explain", "web", "--to", "169.254.169.254:80/tcp", "--json").EnsureSuccess("explain").Stdout).RootElement;
        Assert.Equal("deny", explain.GetProperty("verdict").GetString());

        net.SetPolicy("web", "network:\n  outbound:\n    - to: [0.0.0.0/0, 169.254.169.254]\n      ports: [80]\n");
        Expect(net.Probe(net.NamespaceOf("web"), specs, 700), open: specs);
    }

    [Fact]
    public void Policy_swap_changes_what_a_live_sandbox_reaches()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("swap");
        net.Create("a", builtin: "offline");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,443");
        Assert.False(net.Reaches(net.NamespaceOf("a"), "tcp:203.0.113.10:80", 700));
        net.SetPolicy("a", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n");
        Assert.True(net.Reaches(net.NamespaceOf("a"), "tcp:203.0.113.10:80"));
        Assert.False(net.Reaches(net.NamespaceOf("a"), "tcp:203.0.113.10:443", 700));
        net.SetPolicy("a", "network: {}\n");
        Assert.False(net.Reaches(net.NamespaceOf("a"), "tcp:203.0.113.10:80", 700));
    }

    [Fact]
    public void Policy_swap_cuts_established_connections_it_no_longer_allows_and_keeps_the_others()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("cut");
        var a = net.Create("a", "network:\n  outbound:\n    - protocol: tcp\n      ports: [7777, 7778]\n").GetProperty("ipv4").GetString()!;
        net.PythonServer(TestNetwork.NetnsPath(net.Internet), "hold.py", "--serve", "7777");
        net.PythonServer(TestNetwork.NetnsPath(net.Internet), "hold.py", "--serve", "7778");
        var cut = net.StartPython(net.NamespaceOf("a"), "hold.py", TestNetwork.WebServer, "7777", "6");
        var kept = net.StartPython(net.NamespaceOf("a"), "hold.py", TestNetwork.WebServer, "7778", "6");

        // Both connections must exist before the swap, or there would be nothing established to cut or keep.
        net.WaitForEstablished(a, TestNetwork.WebServer, 7777);
        net.WaitForEstablished(a, TestNetwork.WebServer, 7778);
        net.SetPolicy("a", "network:\n  outbound:\n    - protocol: tcp\n      port: 7778\n");
        Assert.True(cut.WaitForExit(15_000) && kept.WaitForExit(15_000));
        Assert.StartsWith("broken", cut.StandardOutput.ReadToEnd().Trim(), StringComparison.Ordinal);
        Assert.StartsWith("ok", kept.StandardOutput.ReadToEnd().Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sandbox_given_an_address_just_freed_inherits_none_of_its_connections()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        // Dual-stack: the forget then dumps both families at once (the IPv4-only case is the swap test above).
        using var net = new TestNetwork("reuse", dualStack: true);
        net.Create("a", "network:\n  outbound:\n    - protocol: tcp\n      port: 7777\n", ip: "10.0.0.9");
        net.PythonServer(TestNetwork.NetnsPath(net.Internet), "hold.py", "--serve", "7777");
        net.StartPython(net.NamespaceOf("a"), "hold.py", TestNetwork.WebServer, "7777", "30");
        string Tracked() => net.Conntrack();
        net.WaitForEstablished("10.0.0.9", TestNetwork.WebServer, 7777);
        Assert.Contains("dport=7777", Tracked(), StringComparison.Ordinal);

        // The old owner's connection is forgotten by the time the new owner of its address exists, not later.
        net.Remove("a");
        net.Create("b", builtin: "default", ip: "10.0.0.9");
        Assert.DoesNotContain("src=10.0.0.9 dst=203.0.113.10", Tracked(), StringComparison.Ordinal);
    }

    private static void Expect(Dictionary<string, string> results, string[] open)
    {
        foreach (var (spec, result) in results)
        {
            var reached = result.StartsWith("open", StringComparison.Ordinal);
            Assert.True(reached == open.Contains(spec), $"{spec}: {result} (expected {(open.Contains(spec) ? "reachable" : "blocked")})");
        }
    }
}
