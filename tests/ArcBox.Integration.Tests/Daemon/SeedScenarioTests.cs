using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>The seed scenario end to end: web serves 8080 to its neighbour, reaches HTTP and HTTPS, and an attacker
/// inside it reaches nothing else.</summary>
public class SeedScenarioTests
{
    private static readonly string Seed = File.ReadAllText(Path.Combine(RepoPaths.Examples, "seed.yaml"));

    [Fact]
    public void Seed_policy_is_enforced_in_the_kernel()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("seed");
        var web = net.Create("web", Seed);
        net.Create("client", "network:\n  outbound:\n    - protocol: tcp\n      port: 8080\n      to: sandbox:web\n");
        Assert.Equal("10.0.0.2", web.GetProperty("ipv4").GetString());

        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "22,80,443,8080", udp: "53,5353");
        net.Serve(net.NamespaceOf("web"), tcp: "8080,9090");
        net.Serve(TestNetwork.NetnsPath(net.Host), tcp: "2222");

        var fromWeb = net.Probe(net.NamespaceOf("web"),
        [
            $"tcp:{TestNetwork.WebServer}:80", $"tcp:{TestNetwork.WebServer}:443", $"tcp:{TestNetwork.SshServer}:22",
            $"udp:{TestNetwork.WebServer}:5353", "tcp:10.0.0.1:2222", $"tcp:{TestNetwork.HostUplink}:2222",
            "tcp:10.0.0.3:8080", "tcp:169.254.169.254:80", $"icmp:{TestNetwork.WebServer}",
        ], 700);
        Assert.StartsWith("open arcbox_80_198.51.100.1", fromWeb[$"tcp:{TestNetwork.WebServer}:80"], StringComparison.Ordinal);
        Assert.StartsWith("open", fromWeb[$"tcp:{TestNetwork.WebServer}:443"], StringComparison.Ordinal);
        foreach (var denied in new[] { $"tcp:{TestNetwork.SshServer}:22", $"udp:{TestNetwork.WebServer}:5353", "tcp:10.0.0.1:2222", $"tcp:{TestNetwork.HostUplink}:2222", "tcp:10.0.0.3:8080", "tcp:169.254.169.254:80", $"icmp:{TestNetwork.WebServer}" })
        {
            Assert.False(fromWeb[denied].StartsWith("open", StringComparison.Ordinal), $"{denied}: {fromWeb[denied]}");
        }

        // The neighbour reaches web's 8080, sees its real address, and nothing else of web.
        var fromClient = net.Probe(net.NamespaceOf("client"), ["tcp:10.0.0.2:8080", "tcp:10.0.0.2:9090"], 700);
        Assert.Equal("open arcbox_8080_10.0.0.3", fromClient["tcp:10.0.0.2:8080"]);
        Assert.False(fromClient["tcp:10.0.0.2:9090"].StartsWith("open", StringComparison.Ordinal));

        // The internet cannot open web's 8080: the seed admits only 10.0.0.0/24.
        Assert.False(net.Reaches(TestNetwork.NetnsPath(net.Internet), "tcp:10.0.0.2:8080", 700));
    }

    [Fact]
    public void Cli_manages_sandboxes_end_to_end()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("cli");
        var policy = Path.Combine(net.Directory, "web.yaml");
        File.WriteAllText(policy, Seed);
        var created = net.Arcbox("create", "web", "--policy", policy, "--json");
        Assert.Equal(0, created.ExitCode);
        Assert.Equal("web", JsonDocument.Parse(created.Stdout).RootElement.GetProperty("name").GetString());

        var inspect = JsonDocument.Parse(net.Arcbox("inspect", "web").EnsureSuccess("inspect").Stdout).RootElement;
        foreach (var field in new[] { "name", "attach", "ipv4", "mac", "hostInterface", "netnsPath", "gateway", "policy" })
        {
            Assert.True(inspect.TryGetProperty(field, out _), field);
        }

        Assert.Contains("web", net.Arcbox("ls").EnsureSuccess("ls").Stdout, StringComparison.Ordinal);
        var exec = net.Arcbox("exec", "web", "--", "ip", "-o", "-4", "addr", "show", "eth0");
        Assert.Contains("10.0.0.2/24", exec.Stdout, StringComparison.Ordinal);

        // exec's own failures are 125, the command's codes its own (127: not found, as in a shell).
        Assert.Equal(125, net.Arcbox("exec", "nobody", "--", "true").ExitCode);
        Assert.Equal(125, net.Arcbox("exec", "web").ExitCode);
        Assert.Equal(1, net.Arcbox("exec", "web", "--", "sh", "-c", "exit 1").ExitCode);
        Assert.Equal(127, net.Arcbox("exec", "web", "--", "/nonexistent/command").ExitCode);

        var explain = JsonDocument.Parse(net.Arcbox("policy", "explain", "web", "--to", "203.0.113.10:443/tcp", "--json").EnsureSuccess("explain").Stdout).RootElement;
        Assert.Equal("allow", explain.GetProperty("verdict").GetString());
        Assert.Equal("outbound[0]", explain.GetProperty("rule").GetString());
        Assert.Contains("sb_web_out", net.Arcbox("policy", "show", "web", "--format", "nft").Stdout, StringComparison.Ordinal);

        var duplicate = net.Arcbox("create", "web");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already exists", duplicate.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, net.Arcbox("rm", "web").ExitCode);
        Assert.Equal(1, net.Arcbox("inspect", "web").ExitCode);
        Assert.False(File.Exists(net.NamespaceOf("web")));
    }
}
