using System.Diagnostics;
using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Counters and flow logs read from the kernel: what a test sends is what the daemon reports.</summary>
public class FlowLogTests
{
    private const string Ssh = $"tcp:{TestNetwork.SshServer}:22";

    [Fact]
    public void A_blocked_connect_is_logged_with_its_rule_and_counted()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("flow");
        net.Create("web", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n    - protocol: udp\n      port: 53\n");
        net.Create("quiet", "network:\n  outbound: []\n  log: none\n");
        net.Create("loud", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n  log: all\n");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,22");

        Assert.False(net.Reaches(net.NamespaceOf("web"), Ssh, 500));
        var denied = WaitForEntry(net, "web", e => e.GetProperty("kind").GetString() == "flow");
        Assert.Equal("drop", denied.GetProperty("verdict").GetString());
        Assert.Equal("default", denied.GetProperty("ruleId").GetString());
        Assert.Equal("out", denied.GetProperty("direction").GetString());
        Assert.Equal("tcp", denied.GetProperty("protocol").GetString());
        Assert.Equal("10.0.0.2", denied.GetProperty("source").GetString());
        Assert.Equal(TestNetwork.SshServer, denied.GetProperty("destination").GetString());
        Assert.Equal(22, denied.GetProperty("destinationPort").GetInt32());

        // The same through the CLI, and the allowed connection is counted under its rule.
        Assert.True(net.Reaches(net.NamespaceOf("web"), $"tcp:{TestNetwork.WebServer}:80"));
        var cli = JsonDocument.Parse(net.Arcbox("logs", "web", "--denied", "--json").EnsureSuccess("logs").Stdout).RootElement;
        Assert.Contains(cli.EnumerateArray(), e => e.GetProperty("ruleId").GetString() == "default" && e.GetProperty("destinationPort").GetInt32() == 22);
        Assert.DoesNotContain(cli.EnumerateArray(), e => e.GetProperty("verdict").GetString() != "drop");
        Assert.Matches($@"web out drop default tcp 10\.0\.0\.2:\d+ -> {TestNetwork.SshServer.Replace(".", "\\.", StringComparison.Ordinal)}:22", net.Arcbox("logs", "web").EnsureSuccess("logs as text").Stdout);
        var stats = JsonDocument.Parse(net.Arcbox("stats", "web", "--json").EnsureSuccess("stats").Stdout).RootElement;
        var rules = stats.GetProperty("rules").EnumerateArray().ToList();
        Assert.Contains(rules, r => r.GetProperty("ruleId").GetString() == "outbound[0]" && r.GetProperty("verdict").GetString() == "allow" && r.GetProperty("packets").GetInt64() >= 1);
        Assert.True(stats.GetProperty("outDropped").GetProperty("packets").GetInt64() >= 1);

        // DNS queries join the same stream.
        ProcessRunner.Run("nsenter", [$"--net={net.NamespaceOf("web")}", "/usr/bin/python3", "-c",
            "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(2)\n"
            + "s.sendto(b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x05quiet\\x06arcbox\\x08internal\\x00\\x00\\x01\\x00\\x01',('10.0.0.1',53))\ns.recv(512)"]).EnsureSuccess("dns query");
        var query = WaitForEntry(net, "web", e => e.GetProperty("kind").GetString() == "dns");
        Assert.Equal("quiet.arcbox.internal", query.GetProperty("name").GetString());
        Assert.Equal("local", query.GetProperty("verdict").GetString());

        // log: none suppresses the event, not the counter; log: all also logs what it allows.
        Assert.False(net.Reaches(net.NamespaceOf("quiet"), Ssh, 500));
        Assert.True(net.Reaches(net.NamespaceOf("loud"), $"tcp:{TestNetwork.WebServer}:80"));
        var allowed = WaitForEntry(net, "loud", e => e.GetProperty("verdict").GetString() == "allow");
        Assert.Equal("outbound[0]", allowed.GetProperty("ruleId").GetString());

        // A sleep, not a wait: the test is that no event of quiet ever comes, so it gives the kernel's 100 ms log
        // batches a full second to deliver one.
        Thread.Sleep(1000);
        Assert.DoesNotContain(Entries(net, "quiet"), e => e.GetProperty("kind").GetString() == "flow");
        Assert.True(Stats(net, "quiet").GetProperty("outDropped").GetProperty("packets").GetInt64() >= 1);
    }

    [Fact]
    public void Counters_match_the_packets_sent_and_the_api_answers_through_a_drop_flood()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("flood");
        net.Create("web", "network:\n  outbound:\n    - protocol: udp\n      port: 5005\n");
        var ns = net.NamespaceOf("web");
        var before = Stats(net, "web");

        // 40 datagrams to an allowed port and 60 to a denied one: each is a new flow (nothing answers).
        Send(net, ns, 5005, 40);
        Send(net, ns, 5006, 60);
        var after = Stats(net, "web");
        var allowed = after.GetProperty("outAllowed").GetProperty("packets").GetInt64() - before.GetProperty("outAllowed").GetProperty("packets").GetInt64();
        var dropped = after.GetProperty("outDropped").GetProperty("packets").GetInt64() - before.GetProperty("outDropped").GetProperty("packets").GetInt64();
        Assert.Equal(40, allowed);
        Assert.Equal(60, dropped);

        // A sustained flood of denied datagrams: logging is rate limited in the kernel, the API keeps answering.
        var flood = net.Background(ns, "/usr/bin/python3", "-c",
            "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nend=time.time()+4\nn=0\nwhile time.time()<end:\n  s.sendto(b'x',('203.0.113.10',4000+n%1000)); n+=1\nprint(n)");
        var answered = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3.5))
        {
            net.Get("v1/health");
            Entries(net, "web");
            answered++;

            // Paces the polls through the flood: the test counts how many a slow API still answers in 3.5 s.
            Thread.Sleep(100);
        }

        flood.WaitForExit(10_000);
        var sent = long.Parse(flood.StandardOutput.ReadToEnd().Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(sent > 10_000, $"the flood sent only {sent} datagrams");
        Assert.True(answered >= 10, $"the API answered {answered} times in 3.5 s");
        var logged = Entries(net, "web").Count(e => e.GetProperty("kind").GetString() == "flow");
        Assert.True(logged < 200, $"{logged} events logged from a rate-limited flood");
        Assert.True(Stats(net, "web").GetProperty("outDropped").GetProperty("packets").GetInt64() >= sent);
    }

    private static void Send(TestNetwork net, string ns, int port, int count) =>
        ProcessRunner.Run("nsenter", [$"--net={ns}", "/usr/bin/python3", "-c", $"import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range({count}):\n  s.sendto(b'x',('{TestNetwork.WebServer}',{port}))"])
            .EnsureSuccess("send datagrams");

    private static JsonElement Stats(TestNetwork net, string name) => net.Get($"v1/sandboxes/{name}/stats");

    private static List<JsonElement> Entries(TestNetwork net, string name) => [.. net.Get($"v1/sandboxes/{name}/logs").EnumerateArray()];

    /// <summary>The first entry matching, waiting up to 3 s (the kernel flushes its log batches every 100 ms).</summary>
    private static JsonElement WaitForEntry(TestNetwork net, string name, Func<JsonElement, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Entries(net, name).FirstOrDefault(match) is { ValueKind: JsonValueKind.Object } e)
            {
                return e;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"no such log entry of {name} within 3 s:\n{net.DaemonLog}");
            Thread.Sleep(100);
        }
    }
}

/// <summary>Prometheus metrics on a TCP address of the daemon's namespace, and the event stream of the API.</summary>
public class MetricsTests
{
    [Fact]
    public async Task Metrics_name_sandboxes_and_rules_and_events_stream_as_they_happen()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("metrics", configExtra: "metrics:\n  listen: 127.0.0.1:9464\n");
        net.Create("web", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,22");

        // The stream is open before the flow happens.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(net.Socket), ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        }) { Timeout = Timeout.InfiniteTimeSpan };
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await http.GetAsync("http://arcbox/v1/events?sandbox=web&denied=true", HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));

        Assert.True(net.Reaches(net.NamespaceOf("web"), $"tcp:{TestNetwork.WebServer}:80"));
        Assert.False(net.Reaches(net.NamespaceOf("web"), $"tcp:{TestNetwork.SshServer}:22", 500));
        var line = await reader.ReadLineAsync(cancel.Token);
        var e = JsonDocument.Parse(line!).RootElement;
        Assert.Equal(("flow", "drop", "default", 22), (e.GetProperty("kind").GetString(), e.GetProperty("verdict").GetString(), e.GetProperty("ruleId").GetString(), e.GetProperty("destinationPort").GetInt32()));

        var metrics = Fetch(net, "/metrics");
        Assert.Contains("# TYPE arcbox_rule_packets_total counter", metrics, StringComparison.Ordinal);
        Assert.Contains("arcbox_sandboxes 1\n", metrics, StringComparison.Ordinal);
        Assert.Matches(@"arcbox_rule_packets_total\{sandbox=""web"",direction=""out"",rule=""default"",verdict=""drop""\} [1-9]", metrics);
        Assert.Matches(@"arcbox_rule_packets_total\{sandbox=""web"",direction=""out"",rule=""outbound\[0\]"",verdict=""allow""\} [1-9]", metrics);
        Assert.Matches(@"arcbox_sandbox_sent_bytes_total\{sandbox=""web""\} [1-9]", metrics);

        // The TCP listener serves metrics only: the API stays on the Unix socket.
        Assert.Contains("404", Fetch(net, "/v1/sandboxes"), StringComparison.Ordinal);
    }

    /// <summary>An HTTP GET to the metrics listener from inside the daemon's namespace: the body, or "HTTP NNN".</summary>
    private static string Fetch(TestNetwork net, string path) =>
        ProcessRunner.Run("nsenter", [$"--net={TestNetwork.NetnsPath(net.Host)}", "/usr/bin/python3", "-c",
            "import sys,urllib.request,urllib.error\ntry:\n  print(urllib.request.urlopen('http://127.0.0.1:9464" + path + "',timeout=5).read().decode())\nexcept urllib.error.HTTPError as e:\n  print('HTTP', e.code)"])
            .EnsureSuccess("fetch " + path).Stdout;
}

/// <summary>Two daemons in one host namespace (different prefixes) each log their own sandboxes' flows.</summary>
public class SideBySideLogTests
{
    [Fact]
    public void Daemons_side_by_side_read_their_own_flow_logs()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("duo");
        var second = Path.Combine(net.Directory, "second");
        Directory.CreateDirectory(second);
        var prefix = "u" + net.Prefix[1..];
        File.WriteAllText(Path.Combine(second, "arcbox.yaml"), $"subnet: 10.1.0.0/24\nprefix: {prefix}\nuplink: up0\n");
        var socket = Path.Combine(second, "arcbox.sock");
        var cli = Path.Combine(AppContext.BaseDirectory, "arcbox.dll");
        var daemon = net.Background(TestNetwork.NetnsPath(net.Host), "dotnet", cli, "daemon", "--config", Path.Combine(second, "arcbox.yaml"), "--state-dir", Path.Combine(second, "state"), "--socket", socket);
        try
        {
            var env = new Dictionary<string, string> { ["ARCBOX_SOCKET"] = socket };

            // As long as TestNetwork gives its own daemon to answer.
            Eventually.Until(() => ProcessRunner.Run("dotnet", [cli, "ls"], environment: env), r => r.ExitCode == 0, TimeSpan.FromSeconds(30), "the second daemon to answer `arcbox ls`");

            Assert.NotEqual(ArcBox.Netfilter.NetworkConfig.LogGroupFor(net.Prefix), ArcBox.Netfilter.NetworkConfig.LogGroupFor(prefix));
            net.Create("a", "network:\n  outbound: []\n");
            ProcessRunner.Run("dotnet", [cli, "create", "b", "--policy", "offline"], environment: env).EnsureSuccess("create b on the second daemon");
            Assert.False(net.Reaches(net.NamespaceOf("a"), $"tcp:{TestNetwork.SshServer}:22", 500));
            Assert.False(net.Reaches($"/run/netns/arcbox-{prefix}-b", $"tcp:{TestNetwork.SshServer}:22", 500));

            var (first, other) = Eventually.Until(
                () => (First: JsonDocument.Parse(net.Arcbox("logs", "--json").EnsureSuccess("logs").Stdout).RootElement,
                    Other: JsonDocument.Parse(ProcessRunner.Run("dotnet", [cli, "logs", "--json"], environment: env).EnsureSuccess("logs of the second").Stdout).RootElement),
                logs => logs.First.GetArrayLength() > 0 && logs.Other.GetArrayLength() > 0,
                TimeSpan.FromSeconds(5),
                "a flow event in the logs of each daemon");

            Assert.Contains(first.EnumerateArray(), e => e.GetProperty("sandbox").GetString() == "a" && e.GetProperty("ruleId").GetString() == "default");
            Assert.Contains(other.EnumerateArray(), e => e.GetProperty("sandbox").GetString() == "b" && e.GetProperty("ruleId").GetString() == "default");
            Assert.All(first.EnumerateArray(), e => Assert.Equal("a", e.GetProperty("sandbox").GetString()));
            ProcessRunner.Run("dotnet", [cli, "rm", "b"], environment: env).EnsureSuccess("rm b");
        }
        finally
        {
            ArcBox.Cli.Infrastructure.ChildProcess.KillTree(daemon);
            foreach (var ns in Directory.GetFiles("/run/netns", $"arcbox-{prefix}-*"))
            {
                ProcessRunner.Run("ip", ["netns", "del", Path.GetFileName(ns)]);
            }
        }
    }
}
