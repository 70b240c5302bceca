using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>
/// What a compromised sandbox (root inside it) can do with conntrack's RELATED state, IP options and the host's own
/// ICMP errors (issue 20), from a netns and from a tap sandbox, IPv4 and IPv6. Each attack first runs against a bare
/// routed host (ArcBox's table swapped for a plain masquerade), where it must succeed, proving the test can fail;
/// and against ArcBox as created, after a policy swap and after a daemon restart, where nothing may arrive and every
/// drop is counted. ArcBox goes first: on the bare host the attacks do reach the victim's connections.
/// </summary>
public class RelatedTrafficTests
{
    private const string Private4 = "192.168.50.1";
    private const string Private6 = "2001:db8:50::1";
    private const string Uplink6 = "2001:db8:1::1";

    private static string? WhyNot => Needs.Root ?? (ProcessRunner.Run("/usr/bin/python3", ["-c", "import scapy"]).ExitCode == 0 ? null : "needs Debian's python3-scapy (./run-tests installs it)");

    [Theory]
    [InlineData("netns")]
    [InlineData("tap")]
    public void A_sandbox_can_neither_forge_errors_into_other_connections_nor_route_around_its_policy(string attach)
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("rel" + attach[0], dualStack: true);
        net.Internet.Exec("ip", "addr", "add", $"{Private4}/32", "dev", "lo").EnsureSuccess("private address");
        net.Internet.Exec("ip", "addr", "add", $"{Private6}/128", "dev", "lo").EnsureSuccess("private v6 address");
        net.Internet.Exec("ip", "-6", "route", "add", "fd00:ab::/64", "via", "2001:db8:1::1").EnsureSuccess("route to the sandboxes");
        // Sinks that keep every connection open for as long as its client does.
        net.PythonServer(TestNetwork.NetnsPath(net.Internet), "upload.py", "--serve", "80");
        net.PythonServer(TestNetwork.NetnsPath(net.Internet), "upload.py", "--serve", "8080");

        var victim = net.Create("victim", $"""
            network:
              outbound:
                - protocol: tcp
                  port: 80
                  to: internet
                - protocol: tcp
                  port: 8080
                  to: [{Private4}/32, "{Private6}/128"]
            """);
        var evil = net.Create("evil", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n      to: internet\n", attach: attach == "tap" ? "tap" : null);
        var attacker = new Attacker(net, evil);
        var v4 = victim.GetProperty("ipv4").GetString()!;
        var v6 = victim.GetProperty("ipv6").GetString()!;

        // The victim's connections, from source ports the masquerade keeps.
        var ns = net.NamespaceOf("victim");
        var holds = new List<System.Diagnostics.Process>();
        foreach (var (host, port, sport) in new[] { (TestNetwork.WebServer, 80, 40123), (Private4, 8080, 40124), (TestNetwork.WebServer6, 80, 40125), (Private6, 8080, 40126) })
        {
            var hold = net.StartPython(ns, "icmpforge.py", "hold", host, port.ToString(CultureInfo.InvariantCulture), sport.ToString(CultureInfo.InvariantCulture));
            Assert.Equal("ready", hold.StandardOutput.ReadLine());
            holds.Add(hold);
        }

        // What arrives where it must not: errors from the attacker at the victim; errors at the private addresses;
        // source-routed packets at the internet.
        Load(ns, $$"""
            table inet watch {
              chain pre {
                type filter hook prerouting priority -400; policy accept;
                ip saddr {{attacker.Ipv4}} icmp type destination-unreachable counter
                ip6 saddr {{attacker.Ipv6}} icmpv6 type { destination-unreachable, packet-too-big } counter
              }
            }
            """);
        Load(TestNetwork.NetnsPath(net.Internet), $$"""
            table inet watch {
              chain pre {
                type filter hook prerouting priority -400; policy accept;
                ip daddr {{Private4}} icmp type destination-unreachable counter
                ip6 daddr {{Private6}} icmpv6 type destination-unreachable counter
                ip option lsrr exists counter
                ip hdrlength != 5 counter
                ip option rr exists counter
                exthdr rt exists counter
              }
            }
            """);

        // Source routing is taken only where the host accepts it (all and the link): a host that does is the worst case.
        var link = evil.GetProperty("hostInterface").GetString()!;
        // The host's per-destination ICMP rate limit (1/s, burst 6) is off, so that what it answers depends on the
        // rules alone (the ArcBox phases make it generate errors that the rules then drop).
        foreach (var (key, value) in new[] { ("net.ipv4.conf.all.accept_source_route", "1"), ($"net.ipv4.conf.{link}.accept_source_route", "1"), ("net.ipv4.icmp_ratelimit", "0"), ("net.ipv6.icmp.ratelimit", "0") })
        {
            net.Host.Exec("sysctl", "-qw", $"{key}={value}").EnsureSuccess(key);
        }

        var attacks = new (string Name, string[] Args, string Watch)[]
        {
            ("port unreachable into the victim's connection", ["error", TestNetwork.HostUplink, "3", "3", "0", TestNetwork.HostUplink, TestNetwork.WebServer, "40123", "80"], $"ip saddr {attacker.Ipv4}"),
            ("fragmentation needed (MTU 552) into the victim's connection", ["error", TestNetwork.HostUplink, "3", "4", "552", TestNetwork.HostUplink, TestNetwork.WebServer, "40123", "80"], $"ip saddr {attacker.Ipv4}"),
            ("ICMPv6 unreachable into the victim's connection", ["error", Uplink6, "1", "4", "0", Uplink6, TestNetwork.WebServer6, "40125", "80"], $"ip6 saddr {attacker.Ipv6}"),
            ("ICMPv6 packet too big into the victim's connection", ["error", Uplink6, "2", "0", "1280", Uplink6, TestNetwork.WebServer6, "40125", "80"], $"ip6 saddr {attacker.Ipv6}"),
            ("data to a denied address riding the victim's connection", ["error", Private4, "3", "3", "0", Private4, v4, "8080", "40124", "data"], $"ip daddr {Private4}"),
            ("IPv6 data to a denied address riding the victim's connection", ["error", Private6, "1", "4", "0", Private6, v6, "8080", "40126", "data"], $"ip6 daddr {Private6}"),
            ("loose source route through an allowed address", ["lsrr", TestNetwork.WebServer, Private4, "80"], "ip option lsrr"),
            // A strict route names every router: the gateway (the host itself), then its neighbour on the uplink. The
            // host consumes the route, and nft no longer parses what it leaves as an ssrr option: count any options.
            ("strict source route through the gateway", ["ssrr", "10.0.0.1", TestNetwork.InternetRouter, "80"], "ip hdrlength != 5"),
            ("record route", ["rr", TestNetwork.WebServer, "80"], "ip option rr"),
            ("IPv6 routing header through an allowed address", ["rh", TestNetwork.WebServer6, Private6, "80"], "exthdr rt"),
        };
        var probes = new (string Name, string[] Args)[]
        {
            ("TTL 1 to a denied private address", ["ttl1", Private4, "tcp", "80"]),
            ("TTL 1 to a denied port", ["ttl1", TestNetwork.SshServer, "tcp", "22"]),
            ("TTL 1 to the metadata address", ["ttl1", "169.254.169.254", "udp", "80"]),
            ("hop limit 1 to a denied IPv6 address", ["ttl1", Private6, "tcp", "80"]),
        };

        // ArcBox, as created, after a policy swap of the attacker and after a daemon restart.
        foreach (var phase in new[] { "as created", "after policy set", "after restart" })
        {
            if (phase == "after policy set")
            {
                net.SetPolicy("evil", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n      to: internet\n    - protocol: udp\n      port: 9\n");
            }
            else if (phase == "after restart")
            {
                net.KillDaemon();
                net.StartDaemon();
            }

            // One batch per phase (a scapy start costs a second): nothing arrives, and every packet is counted.
            var before = attacks.Select(a => Watched(net, ns, a.Watch)).ToList();
            var (foreign, options, hidden) = (net.Counter("foreign_related"), net.Counter("route_options"), net.Counter("icmp_hidden"));
            attacker.Batch(attacks.Select(a => a.Args));
            for (var i = 0; i < attacks.Length; i++)
            {
                Assert.True(Watched(net, ns, attacks[i].Watch) == before[i], $"{phase}: {attacks[i].Name} got through");
            }

            var counters = net.Host.Exec("nft", "list", "counters").Stdout;
            Assert.True(net.Counter("foreign_related") - foreign >= 5 * attacks.Count(a => a.Args[0] == "error"), $"{phase}: forged errors not all counted in foreign_related:\n{counters}");
            Assert.True(net.Counter("route_options") - options >= 5 * attacks.Count(a => a.Args[0] != "error"), $"{phase}: routing options not all counted in route_options:\n{counters}");

            var answers = attacker.Batch(probes.Select(p => p.Args));
            for (var i = 0; i < probes.Length; i++)
            {
                Assert.True(answers[i] == "ttl1: none", $"{phase}: {probes[i].Name}: the host answered ({answers[i]})");
            }

            // Each probe is sent three times and the host, without its rate limit, makes an error of each: all dropped.
            Assert.True(net.Counter("icmp_hidden") - hidden >= 3 * probes.Length, $"{phase}: the host's answers were not all counted in icmp_hidden");
        }

        // The victim's connections lived through all of it, and its allowed traffic still flows.
        Assert.All(holds, h => Assert.False(h.HasExited, "a victim's connection broke"));
        Assert.True(net.Reaches(ns, $"tcp:{TestNetwork.WebServer}:80"));

        // The bare routed host: every attack gets through and the host answers every probe.
        var table = $"arcbox-{net.Prefix}";
        var saved = net.Host.Exec("nft", "list", "table", "inet", table).EnsureSuccess("save table").Stdout;
        net.Host.Exec("nft", "delete", "table", "inet", table).EnsureSuccess("drop table");
        net.Host.Nft("table inet bare {\n chain post {\n type nat hook postrouting priority srcnat; policy accept;\n oifname \"up0\" masquerade\n }\n}\n").EnsureSuccess("bare table");
        try
        {
            foreach (var (name, args, watch) in attacks)
            {
                var before = Watched(net, ns, watch);
                attacker.Send(args);
                Assert.True(Watched(net, ns, watch) > before, $"baseline: {name} did not arrive: the test cannot tell");
            }

            // A TAP's neighbour is resolved on the first answer: give it time.
            Assert.All(attacker.Batch(probes.Select(p => (string[])[.. p.Args, "3"])), a => Assert.Matches(@"^ttl1: icmp (11|3) 0 from (10\.0\.0\.1|fd00:ab::1)$", a));
        }
        finally
        {
            net.Host.Exec("nft", "delete", "table", "inet", "bare");
            net.Host.Nft(saved).EnsureSuccess("restore table");
        }

    }

    [Fact]
    public void Path_mtu_discovery_and_unreachables_still_work_for_a_sandbox_own_connections_both_ways()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("pmtu", dualStack: true);
        using var far = new TestNamespace("pmtuf");

        // Sandbox (1500) -> host -> uplink (1400: the host itself must say "too big") -> internet -> a 1280 hop -> far.
        net.Internet.Exec("ip", "-6", "route", "add", "fd00:ab::/64", "via", "2001:db8:1::1").EnsureSuccess("route to the sandboxes");
        net.Host.Exec("ip", "link", "set", "up0", "mtu", "1400").EnsureSuccess("uplink mtu");
        net.Internet.Exec("ip", "link", "set", "eth0", "mtu", "1400").EnsureSuccess("internet mtu");
        net.Internet.Exec("ip", "link", "add", "far0", "mtu", "1280", "type", "veth", "peer", "name", "eth0", "netns", far.Name).EnsureSuccess("far link");
        net.Internet.Exec("ip", "addr", "add", "192.0.2.1/30", "dev", "far0").EnsureSuccess("far link address");
        net.Internet.Exec("ip", "addr", "add", "2001:db8:2::1/64", "dev", "far0", "nodad").EnsureSuccess("far link v6");
        net.Internet.Exec("ip", "link", "set", "far0", "up").EnsureSuccess("far link up");
        net.Internet.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1").EnsureSuccess("forward");
        net.Internet.Exec("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1").EnsureSuccess("forward v6");
        net.Internet.Exec("ip", "route", "add", "203.0.113.80/32", "via", "192.0.2.2").EnsureSuccess("route to far");
        net.Internet.Exec("ip", "-6", "route", "add", "2001:db8:cafe::80/128", "via", "2001:db8:2::2").EnsureSuccess("route to far v6");
        far.Exec("ip", "addr", "add", "192.0.2.2/30", "dev", "eth0").EnsureSuccess("far address");
        far.Exec("ip", "addr", "add", "2001:db8:2::2/64", "dev", "eth0", "nodad").EnsureSuccess("far v6");
        far.Exec("ip", "addr", "add", "203.0.113.80/32", "dev", "lo").EnsureSuccess("far server");
        far.Exec("ip", "addr", "add", "2001:db8:cafe::80/128", "dev", "lo").EnsureSuccess("far server v6");
        far.Exec("ip", "link", "set", "eth0", "up").EnsureSuccess("far up");
        far.Exec("ip", "route", "add", "default", "via", "192.0.2.1").EnsureSuccess("far default");
        far.Exec("ip", "-6", "route", "add", "default", "via", "2001:db8:2::1").EnsureSuccess("far v6 default");
        net.PythonServer(TestNetwork.NetnsPath(far), "upload.py", "--serve", "9000");

        var web = net.Create("web", "network:\n  outbound:\n    - protocol: tcp\n      port: 9000\n      to: internet\n    - protocol: udp\n      port: 5999\n      to: internet\n  inbound:\n    - from: internet\n      protocol: udp\n      port: 6000\n");
        var ns = net.NamespaceOf("web");
        foreach (var server in new[] { "203.0.113.80", "2001:db8:cafe::80" })
        {
            var upload = net.Python(ns, "upload.py", server, "9000", "300000");
            Assert.True(upload.Stdout.Trim() == "ok 300000", $"upload to {server} through two smaller MTUs: {upload.Stdout}{upload.Stderr}");
        }

        // A port nobody listens on, that the policy allows: the far side's unreachable comes back to the sandbox.
        var probe = net.Probe(ns, [$"udp:{TestNetwork.WebServer}:5999"]);
        Assert.Equal("closed refused", probe[$"udp:{TestNetwork.WebServer}:5999"]);

        // The other way: the sandbox's own port unreachable (RELATED, reply direction) for a port its policy opens.
        var inbound = $"udp:{web.GetProperty("ipv4").GetString()}:6000";
        Assert.Equal("closed refused", net.Probe(TestNetwork.NetnsPath(net.Internet), [inbound])[inbound]);
        Assert.Equal(0, net.Counter("foreign_related"));
    }

    private static void Load(string namespacePath, string script) =>
        ProcessRunner.Run("nsenter", [$"--net={namespacePath}", "nft", "-f", "-"], script).EnsureSuccess("load watch table");

    private static long Watched(TestNetwork net, string victimNs, string rule)
    {
        var where = rule.StartsWith("ip saddr", StringComparison.Ordinal) || rule.StartsWith("ip6 saddr", StringComparison.Ordinal) ? victimNs : TestNetwork.NetnsPath(net.Internet);
        var text = ProcessRunner.Run("nsenter", [$"--net={where}", "nft", "list", "table", "inet", "watch"]).EnsureSuccess("list watch").Stdout;
        var line = text.Split('\n').First(l => l.Contains(rule, StringComparison.Ordinal));
        return long.Parse(Regex.Match(line, @"packets (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The attacking sandbox: packets from inside its namespace, or written into its TAP as its guest would.</summary>
    private sealed class Attacker(TestNetwork net, JsonElement sandbox)
    {
        public string Ipv4 { get; } = sandbox.GetProperty("ipv4").GetString()!;

        public string Ipv6 { get; } = sandbox.GetProperty("ipv6").GetString()!;

        public string Send(string[] args) => Run(args, null);

        /// <summary>Several commands in one run of the tool; one answer each ("KIND: ANSWER"), in order.</summary>
        public List<string> Batch(IEnumerable<string[]> commands) =>
            [.. Run(["batch"], string.Join('\n', commands.Select(c => string.Join(' ', c))) + "\n").Split('\n')];

        private string Run(string[] args, string? stdin)
        {
            var name = sandbox.GetProperty("name").GetString()!;
            var tool = Path.Combine(RepoPaths.Root, "tests", "tools", "icmpforge.py");
            string[] command;
            if (sandbox.GetProperty("attach").GetString() == "tap")
            {
                var tap = sandbox.GetProperty("hostInterface").GetString()!;
                var gatewayMac = JsonDocument.Parse(net.Host.Exec("ip", "-j", "link", "show", "dev", tap).EnsureSuccess("tap mac").Stdout).RootElement[0].GetProperty("address").GetString()!;
                command = [$"--net={TestNetwork.NetnsPath(net.Host)}", "/usr/bin/python3", tool, "--tap", tap, sandbox.GetProperty("mac").GetString()!, gatewayMac, Ipv4, Ipv6, .. args];
            }
            else
            {
                command = [$"--net={net.NamespaceOf(name)}", "/usr/bin/python3", tool, .. args];
            }

            return ProcessRunner.Run("nsenter", command, stdin).EnsureSuccess(string.Join(' ', args)).Stdout.Trim();
        }
    }
}
