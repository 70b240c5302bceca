using ArcBox.Testing;
using ArcBox.Testing.Daemon;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Malformed requests, bad names and bad policies get clear errors and change nothing.</summary>
public class BadInputTests
{
    [Fact]
    public async Task Malformed_api_requests_are_refused_and_change_nothing()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        var ct = TestContext.Current.CancellationToken;
        using var net = new TestNetwork("bad");
        net.Create("web", builtin: "default");
        var before = State(net);

        var cases = new (string Method, string Path, string? Body, int Status, string Message)[]
        {
            ("POST", "/v1/sandboxes", "{not json", 400, "malformed JSON"),
            ("POST", "/v1/sandboxes", "", 400, "malformed JSON"),
            ("POST", "/v1/sandboxes", "[1,2]", 400, "malformed JSON"),
            ("POST", "/v1/sandboxes", "{\"name\": \"Bad_Name\"}", 400, "invalid sandbox name"),
            ("POST", "/v1/sandboxes", "{\"name\": \"web\"}", 409, "already exists"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x1\", \"attach\": \"vm\"}", 400, "unknown attach"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x2\", \"attach\": \"netns:/nonexistent\"}", 400, "not an existing namespace"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x3\", \"attach\": \"pid:999999999\"}", 400, "no such process"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x4\", \"ipv4\": \"10.0.0.2\"}", 409, "belongs to sandbox 'web'"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x5\", \"ipv4\": \"192.168.1.5\"}", 400, "not a sandbox address"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x6\", \"tapOwner\": \"1000\"}", 400, "applies to --attach tap only"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x7\", \"policy\": {\"name\": \"permissive\"}}", 400, "unknown built-in policy"),
            ("POST", "/v1/sandboxes", "{\"name\": \"x8\", \"policy\": {\"yaml\": \"network:\\n  outbound:\\n    - prots: [80]\\n\", \"file\": \"p.yaml\"}}", 400, "p.yaml:3:7: error: unknown key 'prots'"),
            ("PUT", "/v1/sandboxes/web/policy", "{\"yaml\": \"network:\\n  log: loud\\n\"}", 400, "invalid log mode"),
            ("PUT", "/v1/sandboxes/nobody/policy", "{\"name\": \"offline\"}", 404, "no sandbox named 'nobody'"),
            ("DELETE", "/v1/sandboxes/nobody", null, 404, "no sandbox named"),
            ("GET", "/v1/sandboxes/web/policy?format=pf", null, 400, "unknown format"),
            ("POST", "/v1/sandboxes/web/vm/stop?grace=NaN", null, 400, "grace: NaN s is outside 0-600"),
            ("POST", "/v1/sandboxes/web/vm/stop?grace=-1", null, 400, "is outside 0-600"),
            ("POST", "/v1/sandboxes/web/vm/stop?grace=Infinity", null, 400, "is outside 0-600"),
            ("POST", "/v1/sandboxes/web/explain", "{\"direction\": \"sideways\", \"protocol\": \"tcp\", \"peer\": \"1.2.3.4\", \"port\": 80}", 400, "direction must be"),
            ("POST", "/v1/sandboxes/web/explain", "{\"direction\": \"outbound\", \"protocol\": \"tcp\", \"peer\": \"1.2.3\", \"port\": 80}", 400, "invalid IPv4 address"),
            ("POST", "/v1/sandboxes/web/explain", "{\"direction\": \"outbound\", \"protocol\": \"tcp\", \"peer\": \"1.2.3.4\", \"port\": 0}", 400, "port must be 1-65535"),
        };
        foreach (var (method, path, body, status, message) in cases)
        {
            var (code, text) = await RawHttp.SendAsync(net.Socket, method, path, body, ct);
            Assert.True(code == status, $"{method} {path} {body}: {code} {text}");
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Nested 50,000 levels deep, such a policy used to overflow the daemon's stack and abort it.
        var deepPolicy = new { yaml = "network: " + new string('[', 50_000), file = "deep.yaml" };
        foreach (var (method, path, body) in new[] { ("PUT", "/v1/sandboxes/web/policy", (object)deepPolicy), ("POST", "/v1/sandboxes", new { name = "deep", policy = deepPolicy }) })
        {
            var deep = JsonSerializer.Serialize(body);
            var (code, text) = await RawHttp.SendAsync(net.Socket, method, path, deep, ct);
            Assert.True(code == 400, $"{method} {path} (deep YAML): {code} {text[..Math.Min(text.Length, 300)]}");
            Assert.Contains("deep.yaml:1:73: error: YAML nested deeper than 64 levels", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(before, State(net));
    }

    /// <summary>A body Kestrel cannot unframe fails inside the endpoint, not in our validation: it still gets the
    /// error body (it used to be a bare 500), and the daemon serves on.</summary>
    [Fact]
    public async Task A_body_whose_chunk_size_overflows_is_refused_with_the_error_body()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        var ct = TestContext.Current.CancellationToken;
        using var net = new TestNetwork("badchunk");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(net.Socket), ct);
        var request = "POST /v1/sandboxes HTTP/1.1\r\nHost: arcbox\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffffffffffff\r\n{}\r\n0\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, ct);
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync(ct);
        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"invalid\"", response, StringComparison.Ordinal);
        Assert.Contains("unreadable request body", response, StringComparison.Ordinal);
        Assert.Equal(0, net.Arcbox("ls").ExitCode);
    }

    [Fact]
    public void Cli_reports_bad_policy_files_with_locations_before_asking_the_daemon()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("badcli");
        var bad = Path.Combine(ArcBox.Testing.RepoPaths.TestData, "bad", "ports.yaml");
        var r = net.Arcbox("create", "web", "--policy", bad);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{bad}:4:13: error: rule outbound[0]: port 0 is outside 1-65535", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, net.Arcbox("create", "Web").ExitCode);
        Assert.Equal(2, net.Arcbox("create").ExitCode);
        var unreachable = ArcBox.Testing.ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "arcbox.dll"), "ls", "--socket", "/nonexistent/arcbox.sock"]);
        Assert.Equal(3, unreachable.ExitCode);
        Assert.Contains("cannot reach the arcbox daemon", unreachable.Stderr, StringComparison.Ordinal);

        // The same with the options before the command, as docker takes them: a daemon error, not a usage error.
        var before = ArcBox.Testing.ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "arcbox.dll"), "--socket", "/nonexistent/arcbox.sock", "--json", "ls"]);
        Assert.Equal(3, before.ExitCode);
        Assert.Contains("cannot reach the arcbox daemon", before.Stdout + before.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\"name\"", net.Arcbox("ls", "--json").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_config_is_reported_with_its_location_and_the_daemon_does_not_start()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        var dir = Directory.CreateTempSubdirectory("arcbox-badcfg-").FullName;
        try
        {
            var config = Path.Combine(dir, "arcbox.yaml");
            File.WriteAllText(config, "subnet: 10.0.0.1/24\nprefx: ab\nsubnet6: 10.1.0.0/16\ndhcp:\n  enabled: maybe\n  lease_seconds: 2\n  leese: 1\nmetrics:\n  listen: nope:x\nlogs:\n  size: 1\nvm:\n  qemu: qemu-system-x86_64\n  kvm: yes\n");
            var r = ArcBox.Testing.ProcessRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "arcbox.dll"), "daemon", "--config", config, "--state-dir", Path.Combine(dir, "state"), "--socket", Path.Combine(dir, "sock")]);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"{config}:1:9: error: 'subnet': invalid CIDR '10.0.0.1/24': host bits are set; did you mean 10.0.0.0/24?", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:2:1: error: unknown key 'prefx' in the config; did you mean 'prefix'?", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:3:10: error: 'subnet6': 10.1.0.0/16 is not an IPv6 subnet", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:5:12: error: 'dhcp.enabled' must be true or false, not 'maybe'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:6:18: error: 'dhcp.lease_seconds' must be a whole number 4-31536000, not '2'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:7:3: error: unknown key 'leese' in 'dhcp'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:9:11: error: 'metrics.listen': invalid IPv4 address 'nope'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:11:9: error: 'logs.size' must be a whole number 10-1000000, not '1'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:13:9: error: 'vm.qemu' must be an absolute path to a QEMU binary, not 'qemu-system-x86_64'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{config}:14:3: error: unknown key 'kvm' in 'vm'", r.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string State(TestNetwork net) =>
        net.Arcbox("ls", "--json").Stdout + System.Text.RegularExpressions.Regex.Replace(net.NftList("ruleset"), @"packets \d+ bytes \d+", "") + net.Host.Exec("ip", "-o", "link").Stdout;
}
