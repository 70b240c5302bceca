using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>
/// The embedded resolver against a real upstream (dnsmasq in the internet namespace) and a rogue resolver there,
/// with dig inside the sandboxes.
/// </summary>
public partial class DnsTests
{
    private const string Rogue = "203.0.113.66";
    private const string PypiAddress = "203.0.113.80";

    private static string? WhyNot => Needs.Root ?? Root.WhyNot("dnsmasq", "dig");

    private static readonly string BigTxt = string.Join(" ", Enumerable.Range(0, 40).Select(i => $"chunk{i:D2}-0123456789abcdef0123456789"));

    private static TestNetwork World(string tag, bool dualStack = false, string extraConfig = "")
    {
        var net = new TestNetwork(tag, dualStack, configExtra: $"dns:\n  upstream: [{TestNetwork.DnsServer}]\n  min_ttl: 2\n  max_ttl: 3\n{extraConfig}");
        var inet = TestNetwork.NetnsPath(net.Internet);
        foreach (var address in new[] { Rogue, PypiAddress })
        {
            net.Internet.Exec("ip", "addr", "add", $"{address}/32", "dev", "lo").EnsureSuccess("address");
        }

        net.Background(inet, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root", "--bind-interfaces",
            $"--listen-address={TestNetwork.DnsServer}", "--local-ttl=1", "--pid-file=",
            $"--address=/pypi.org/{PypiAddress}", "--address=/private.example.org/10.0.0.3", "--address=/meta.example.org/169.254.169.254",
            "--address=/v6.example.org/2001:db8:cafe::10", "--host-record=www.example.org,203.0.113.10",
            "--cname=alias.example.org,www.example.org", $"--txt-record=big.example.org,\"{BigTxt}\"");
        net.Background(inet, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root", "--bind-interfaces",
            $"--listen-address={Rogue}", "--pid-file=", "--address=/#/6.6.6.6");
        foreach (var server in new[] { TestNetwork.DnsServer, Rogue })
        {
            net.Internet.WaitForListener(ProtocolType.Udp, server, 53);
            net.Internet.WaitForListener(ProtocolType.Tcp, server, 53);
        }

        return net;
    }

    /// <summary>dig from inside a namespace: the status and the answer lines.</summary>
    private static (string Status, string[] Answers) Dig(TestNetwork net, string ns, params string[] args)
    {
        var r = ProcessRunner.Run("nsenter", [$"--net={ns}", "dig", "+tries=1", "+time=2", "+noall", "+comments", "+answer", .. args]);
        var status = StatusPattern().Match(r.Stdout) is { Success: true } m ? m.Groups[1].Value : r.Stdout.Contains("timed out", StringComparison.Ordinal) || r.Stdout.Contains("no servers", StringComparison.Ordinal) ? "TIMEOUT" : "?";
        var answers = r.Stdout.Split('\n').Where(l => l.Length > 0 && !l.StartsWith(';')).Select(l => Regex.Replace(l, @"\s+", " ")).ToArray();
        return (status, answers);
    }

    [GeneratedRegex(@"status: ([A-Z]+)")]
    private static partial Regex StatusPattern();

    [Fact]
    public void Names_records_cnames_upstream_ptr_and_tcp()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = World("dns");
        net.Create("web", """
            network:
              outbound:
                - protocol: udp
                  port: 53
                - protocol: tcp
                  port: 53
              dns:
                records:
                  db.internal: 10.0.0.50
                  "*.svc.internal": 10.0.0.51
                  alias.internal: { cname: db.internal }
                  info.internal: { txt: "hello world" }
            """);
        net.Create("db", builtin: "default");
        var ns = net.NamespaceOf("web");
        var gw = "@10.0.0.1";
        Assert.Contains(Dig(net, ns, gw, "db.arcbox.internal").Answers, a => a.EndsWith("A 10.0.0.3", StringComparison.Ordinal));
        Assert.Contains(Dig(net, ns, gw, "host.arcbox.internal").Answers, a => a.EndsWith("A 10.0.0.1", StringComparison.Ordinal));
        Assert.Equal("NXDOMAIN", Dig(net, ns, gw, "nobody.arcbox.internal").Status);
        Assert.Contains(Dig(net, ns, gw, "db.internal").Answers, a => a.EndsWith("A 10.0.0.50", StringComparison.Ordinal));
        Assert.Contains(Dig(net, ns, gw, "a.b.svc.internal").Answers, a => a.EndsWith("A 10.0.0.51", StringComparison.Ordinal));
        var alias = Dig(net, ns, gw, "alias.internal").Answers;
        Assert.Contains(alias, a => a.Contains("CNAME db.internal.", StringComparison.Ordinal));
        Assert.Contains(alias, a => a.EndsWith("A 10.0.0.50", StringComparison.Ordinal));
        Assert.Contains(Dig(net, ns, gw, "info.internal", "TXT").Answers, a => a.Contains("\"hello world\"", StringComparison.Ordinal));
        Assert.Contains(Dig(net, ns, gw, "-x", "10.0.0.3").Answers, a => a.EndsWith("PTR db.arcbox.internal.", StringComparison.Ordinal));

        // Upstream, a CNAME chain from upstream, and a TXT answer too large for UDP (dig retries over TCP).
        Assert.Contains(Dig(net, ns, gw, "www.example.org").Answers, a => a.EndsWith("A 203.0.113.10", StringComparison.Ordinal));
        Assert.Contains(Dig(net, ns, gw, "alias.example.org").Answers, a => a.EndsWith("A 203.0.113.10", StringComparison.Ordinal));
        var big = Dig(net, ns, gw, "big.example.org", "TXT", "+ignore", "+bufsize=512");
        Assert.Equal("NOERROR", big.Status);
        var tcp = Dig(net, ns, gw, "big.example.org", "TXT", "+tcp");
        Assert.Contains(tcp.Answers, a => a.Contains("chunk39", StringComparison.Ordinal));

        // Every DNS packet goes to ArcBox: asking the rogue resolver gets ArcBox's answer.
        Assert.Contains(Dig(net, ns, $"@{Rogue}", "www.example.org").Answers, a => a.EndsWith("A 203.0.113.10", StringComparison.Ordinal));
        Assert.DoesNotContain(Dig(net, ns, $"@{Rogue}", "db.arcbox.internal").Answers, a => a.Contains("6.6.6.6", StringComparison.Ordinal));

        var log = net.Arcbox("logs", "web", "--dns", "--json").EnsureSuccess("logs").Stdout;
        Assert.Contains("\"www.example.org\"", log, StringComparison.Ordinal);
        Assert.Contains("\"forwarded\"", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Domain_egress_opens_only_what_was_resolved_for_its_ttl_and_only_for_that_sandbox()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = World("dom");
        var policy = "network:\n  outbound:\n    - protocol: udp\n      port: 53\n    - protocol: tcp\n      port: 80\n      domains: [pypi.org, private.example.org, meta.example.org]\n";
        net.Create("web", policy);
        net.Create("other", policy);
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,81");
        var web = net.NamespaceOf("web");
        Assert.False(net.Reaches(web, $"tcp:{PypiAddress}:80", 700), "reachable before the lookup");

        Assert.Contains(Dig(net, web, "@10.0.0.1", "pypi.org").Answers, a => a.EndsWith($"A {PypiAddress}", StringComparison.Ordinal));
        var after = net.Probe(web, [$"tcp:{PypiAddress}:80", $"tcp:{PypiAddress}:81"], 700);
        Assert.StartsWith("open", after[$"tcp:{PypiAddress}:80"], StringComparison.Ordinal);
        Assert.False(after[$"tcp:{PypiAddress}:81"].StartsWith("open", StringComparison.Ordinal), "another port opened");
        Assert.False(net.Reaches(net.NamespaceOf("other"), $"tcp:{PypiAddress}:80", 700), "a sandbox that did not resolve it reached it");

        // Names that resolve to private or metadata addresses admit nothing (DNS rebinding).
        Dig(net, web, "@10.0.0.1", "private.example.org");
        Dig(net, web, "@10.0.0.1", "meta.example.org");
        var table = net.NftList("ruleset");
        Assert.DoesNotContain("10.0.0.3 expires", table, StringComparison.Ordinal);
        Assert.DoesNotContain("169.254.169.254 expires", table, StringComparison.Ordinal);

        // min_ttl 2, max_ttl 3: the admission expires with the answer. A sleep, not a wait: the test is that the
        // address is unreachable once the longest TTL has passed, so it lets that time (and a second more) pass.
        Thread.Sleep(4000);
        Assert.False(net.Reaches(web, $"tcp:{PypiAddress}:80", 700), "still reachable after the TTL");

        // Names outside the domains (tunnelling-style queries) are refused.
        Assert.Equal("REFUSED", Dig(net, web, "@10.0.0.1", "6578666c74726174696f6e.evil.example").Status);
        Assert.Equal("REFUSED", Dig(net, web, $"@{Rogue}", "www.example.org").Status);
    }

    [Fact]
    public void Malformed_and_oversized_packets_do_not_disturb_other_clients()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = World("dnsbad");
        net.Create("web", builtin: "default");
        net.Create("db", builtin: "default");
        var junk = ProcessRunner.Run("nsenter", [$"--net={net.NamespaceOf("web")}", "/usr/bin/python3", "-c",
            "import socket,os\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor n in (0,1,11,12,100,512,4000,60000):\n  s.sendto(os.urandom(n),('10.0.0.1',53))\ns.sendto(b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\xff\\xff',('10.0.0.1',53))\nprint('sent')"]);
        junk.EnsureSuccess("junk");
        Assert.Contains(Dig(net, net.NamespaceOf("db"), "@10.0.0.1", "www.example.org").Answers, a => a.EndsWith("A 203.0.113.10", StringComparison.Ordinal));
        Assert.Contains(Dig(net, net.NamespaceOf("web"), "@10.0.0.1", "db.arcbox.internal").Answers, a => a.EndsWith("A 10.0.0.3", StringComparison.Ordinal));
        Assert.True(net.Get("v1/dns/stats").GetProperty("malformed").GetInt64() > 0);
    }

    [Fact]
    public void Upstream_timeout_answers_servfail_and_a_flood_is_rate_limited()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = World("dnsfail", extraConfig: "  queries_per_second: 20\n  timeout_ms: 500\n");
        net.Create("web", "network:\n  outbound:\n    - protocol: udp\n      port: 53\n  dns:\n    upstream: [203.0.113.99]\n");
        net.Create("db", builtin: "default");
        var watch = Stopwatch.StartNew();
        Assert.Equal("SERVFAIL", Dig(net, net.NamespaceOf("web"), "@10.0.0.1", "www.example.org").Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"SERVFAIL took {watch.Elapsed}");

        // 1,000 queries in a burst, paced so the socket buffer keeps them: at 20 per second (burst 40) a few dozen
        // are answered, the rest dropped and counted.
        var flood = ProcessRunner.Run("nsenter", [$"--net={net.NamespaceOf("web")}", "/usr/bin/python3", "-c",
            "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(0.3)\nq=b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x02db\\x06arcbox\\x08internal\\x00\\x00\\x01\\x00\\x01'\nfor i in range(1000):\n  s.sendto(q,('10.0.0.1',53))\n  if i % 50 == 0: time.sleep(0.005)\nn=0\ntry:\n  while True:\n    s.recv(512); n+=1\nexcept socket.timeout: pass\nprint(n)"]).EnsureSuccess("flood");
        var answered = int.Parse(flood.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(answered, 1, 100);
        Assert.True(net.Get("v1/dns/stats").GetProperty("rateLimited").GetInt64() >= 500);
        Assert.Contains(Dig(net, net.NamespaceOf("db"), "@10.0.0.1", "web.arcbox.internal").Answers, a => a.EndsWith("A 10.0.0.2", StringComparison.Ordinal));
    }

    [Fact]
    public void Dual_stack_answers_over_ipv6_and_admits_ipv6_addresses()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = World("dns6", dualStack: true);
        net.Create("web", "network:\n  outbound:\n    - protocol: udp\n      port: 53\n    - protocol: tcp\n      port: 80\n      domains: [v6.example.org]\n");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        var web = net.NamespaceOf("web");
        Assert.False(net.Reaches(web, $"tcp:[{TestNetwork.WebServer6}]:80", 700));
        Assert.Contains(Dig(net, web, "@fd00:ab::1", "v6.example.org", "AAAA").Answers, a => a.EndsWith($"AAAA {TestNetwork.WebServer6}", StringComparison.Ordinal));
        Assert.True(net.Reaches(web, $"tcp:[{TestNetwork.WebServer6}]:80"));
    }

    [Fact]
    public void After_kill_9_no_sandbox_gains_access_and_dns_answers_within_a_second_of_restart()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = World("dnskill");
        net.Create("web", "network:\n  outbound:\n    - protocol: udp\n      port: 53\n    - protocol: tcp\n      port: 80\n      domains: [pypi.org]\n");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        net.KillDaemon();
        var web = net.NamespaceOf("web");
        Assert.Equal("TIMEOUT", Dig(net, web, "@10.0.0.1", "pypi.org").Status);
        Assert.False(net.Reaches(web, $"tcp:{PypiAddress}:80", 700));
        Assert.False(net.Reaches(web, "tcp:203.0.113.10:80", 700));

        net.StartDaemon();
        var watch = Stopwatch.StartNew();
        Assert.Contains(Dig(net, web, "@10.0.0.1", "pypi.org").Answers, a => a.EndsWith($"A {PypiAddress}", StringComparison.Ordinal));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"first answer after restart took {watch.Elapsed}");
        Assert.True(net.Reaches(web, $"tcp:{PypiAddress}:80"));
    }
}
