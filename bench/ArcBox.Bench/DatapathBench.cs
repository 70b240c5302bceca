using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Rendering;
using ArcBox.Policy;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// Per-packet cost of the firewall: iperf3 TCP throughput and sockperf UDP latency from a real sandbox to the
/// internet namespace, with 1, 1,000 and 10,000 sandboxes loaded, against the same topology with no firewall
/// (measured alternately in the same run), and against a linear iptables design at 1,000 sandboxes.
/// </summary>
public static class DatapathBench
{
    private const string Server = TestNetwork.WebServer;

    public static int Run(int runs)
    {
        var missing = Root.WhyNot("ip", "nft", "iperf3", "sockperf", "iptables-restore");
        if (missing is not null)
        {
            Console.Error.WriteLine("datapath bench " + missing);
            return 2;
        }

        Console.WriteLine($"# datapath bench: {runs} alternating runs per cell (3 s each), medians; sandbox -> internet namespace through the host");
        Console.WriteLine("| loaded sandboxes | ruleset | TCP Gbit/s | ratio | UDP p50 latency (µs) | added p50 (µs) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");
        foreach (var n in new[] { 1, 1_000, 10_000 })
        {
            Cell(n, runs, linear: n == 1_000);
        }

        return 0;
    }

    private static void Cell(int n, int runs, bool linear)
    {
        using var net = new TestNetwork("dpb", subnet: "10.0.0.0/16");
        net.Create("bench", "network:\n  outbound:\n    - protocol: tcp\n      port: 5201\n    - protocol: udp\n      port: 11111\n");
        net.StopDaemon();
        var table = $"arcbox-{net.Prefix}";
        LoadExtra(net, n - 1);

        StartServers(net);
        var ns = net.NamespaceOf("bench");
        var with = new List<(double Gbps, double P50)>();
        var without = new List<(double Gbps, double P50)>();
        var tracked = new List<(double Gbps, double P50)>();
        var linearResults = new List<(double Gbps, double P50)>();
        var previous = new List<(double Gbps, double P50)>();
        var withFirewall = net.Host.Exec("nft", "list", "ruleset").Stdout;
        var previousFirewall = BeforeIssue20(withFirewall);
        if (previousFirewall.Removed < 8)
        {
            throw new InvalidOperationException($"the previous design differs from today's by {previousFirewall.Removed} lines only: the bench no longer knows today's rules");
        }
        const string conntrackOnly = "table inet ctonly {\n chain ctpost {\n type nat hook postrouting priority srcnat; policy accept;\n oifname \"up0\" masquerade\n }\n chain ctforward {\n type filter hook forward priority filter; policy accept;\n ct state established,related accept\n }\n}\n";
        for (var r = 0; r < runs; r++)
        {
            with.Add(Measure(ns));
            net.Host.Exec("nft", "delete", "table", "inet", table).EnsureSuccess("drop firewall");
            net.Host.Nft(previousFirewall.Inet).EnsureSuccess("previous firewall");
            previous.Add(Measure(ns));
            net.Host.Exec("nft", "delete", "table", "inet", table).EnsureSuccess("drop previous firewall");
            net.Host.Exec("nft", "delete", "table", "arp", table).EnsureSuccess("drop arp firewall");
            without.Add(Measure(ns));
            net.Host.Nft(conntrackOnly).EnsureSuccess("conntrack only");
            tracked.Add(Measure(ns));
            net.Host.Exec("nft", "delete", "table", "inet", "ctonly").EnsureSuccess("drop conntrack only");
            if (linear)
            {
                net.Host.ExecWithInput(LinearIptables(n, net.Prefix), "iptables-restore").EnsureSuccess("linear iptables");
                linearResults.Add(Measure(ns));
                net.Host.Exec("iptables", "-F").EnsureSuccess("flush iptables");
                net.Host.Exec("iptables", "-X").EnsureSuccess("delete iptables chains");
                net.Host.Exec("nft", "delete", "table", "ip", "filter").EnsureSuccess("drop iptables table");
                net.Host.Exec("nft", "delete", "table", "ip", "nat").EnsureSuccess("drop iptables nat table");
            }

            net.Host.Nft(withFirewall).EnsureSuccess("restore firewall");
        }

        var baseline = Median(without);
        Row(n, "none (baseline)", baseline, baseline);
        Row(n, "conntrack + masquerade only", Median(tracked), baseline);
        Row(n, "ArcBox nftables before issue 20 (RELATED from any link)", Median(previous), baseline);
        Row(n, "ArcBox nftables", Median(with), baseline);
        if (linear)
        {
            Row(n, "linear iptables", Median(linearResults), baseline);
        }
    }

    private static void Row(int n, string what, (double Gbps, double P50) m, (double Gbps, double P50) baseline) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n:N0} | {what} | {m.Gbps:F2} | {m.Gbps / baseline.Gbps:F2}x | {m.P50:F1} | {m.P50 - baseline.P50:+0.0;-0.0;0.0} |"));

    /// <summary>Compiled plans of N more sandboxes (seed policy) in our table: the dispatch maps hold them all.</summary>
    private static void LoadExtra(TestNetwork net, int count)
    {
        var network = NetworkConfig.Create(net.Prefix, IPNetwork.Parse("10.0.0.0/16"));
        var seed = BuiltinPolicies.Default;
        foreach (var chunk in Enumerable.Range(0, count).Chunk(500))
        {
            var script = new StringBuilder();
            foreach (var i in chunk)
            {
                var ip = IPAddress.Parse($"10.0.{(i + 10) / 250}.{((i + 10) % 250) + 3}");
                script.Append(NftRenderer.RenderAdd(network, SandboxCompiler.Compile(network, SandboxIdentity.Create(network, $"x{i}", ip), seed)));
            }

            net.Host.Nft(script.ToString()).EnsureSuccess("load extra sandboxes");
        }
    }

    private static void StartServers(TestNetwork net)
    {
        var inet = TestNetwork.NetnsPath(net.Internet);
        net.Background(inet, "iperf3", "-s", "-B", Server);
        net.Background(inet, "sockperf", "server", "-i", Server, "-p", "11111");
        Thread.Sleep(700);
    }

    private static (double Gbps, double P50) Measure(string ns)
    {
        var iperf = ProcessRunner.Run("nsenter", [$"--net={ns}", "iperf3", "-c", Server, "-t", "3", "-J"], timeoutMs: 30_000).EnsureSuccess("iperf3");
        var bps = JsonDocument.Parse(iperf.Stdout).RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
        var sockperf = ProcessRunner.Run("nsenter", [$"--net={ns}", "sockperf", "ping-pong", "-i", Server, "-p", "11111", "-t", "3"], timeoutMs: 30_000).EnsureSuccess("sockperf");
        var line = sockperf.Stdout.Split('\n').First(l => l.Contains("percentile 50.000", StringComparison.Ordinal));
        var p50 = double.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
        return (bps / 1e9, p50);
    }

    /// <summary>Today's inet table with the rules of issue 20 taken out: RELATED accepted from any link, no check of
    /// IPv4 options or IPv6 routing headers, every host ICMP error let out. The design it replaced, in the same run.</summary>
    private static (string Inet, int Removed) BeforeIssue20(string ruleset)
    {
        var inet = ruleset[ruleset.IndexOf("table inet ", StringComparison.Ordinal)..];
        inet = inet[..(inet.IndexOf("\ntable ", StringComparison.Ordinal) is var end and > 0 ? end + 1 : inet.Length)];
        var lines = inet.Split('\n');
        var kept = lines.Where(l => !l.Contains("ct state related", StringComparison.Ordinal) && !l.Contains("jump guard_options", StringComparison.Ordinal)
            && !l.Contains("exthdr rt exists", StringComparison.Ordinal) && !l.Contains("icmp_hidden\" drop", StringComparison.Ordinal)).ToList();
        var text = string.Join('\n', kept).Replace("ct state established accept", "ct state established,related accept", StringComparison.Ordinal);
        return (text, lines.Length - kept.Count);
    }

    private static (double Gbps, double P50) Median(List<(double Gbps, double P50)> xs) =>
        (Stats.Median(xs.Select(x => x.Gbps)), Stats.Median(xs.Select(x => x.P50)));

    /// <summary>
    /// The linear design ArcBox replaces: a FORWARD rule per sandbox and direction jumping to that sandbox's chain,
    /// which starts with its own conntrack rule. Every packet walks the list until its sandbox; the measured one is last.
    /// </summary>
    private static string LinearIptables(int n, string prefix)
    {
        var sb = new StringBuilder("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        var names = Enumerable.Range(0, n - 1).Select(i => $"x{i}").Append("bench").ToList();
        foreach (var name in names)
        {
            sb.Append(CultureInfo.InvariantCulture, $":{name}-OUT - [0:0]\n:{name}-IN - [0:0]\n");
        }

        foreach (var name in names)
        {
            sb.Append(CultureInfo.InvariantCulture, $"-A FORWARD -i {prefix}-{name} -j {name}-OUT\n-A FORWARD -o {prefix}-{name} -j {name}-IN\n");
            sb.Append(CultureInfo.InvariantCulture, $"-A {name}-OUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A {name}-IN -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
            var ports = name == "bench" ? "-p tcp --dport 5201 -j ACCEPT\n-A {0}-OUT -p udp --dport 11111 -j ACCEPT" : "-p tcp -m multiport --dports 80,443 -j ACCEPT\n-A {0}-OUT -p udp --dport 53 -j ACCEPT";
            sb.Append("-A ").Append(name).Append("-OUT ").Append(string.Format(CultureInfo.InvariantCulture, ports, name)).Append('\n');
            sb.Append(CultureInfo.InvariantCulture, $"-A {name}-OUT -j DROP\n-A {name}-IN -j DROP\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"COMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o up0 -j MASQUERADE\nCOMMIT\n");
        return sb.ToString();
    }
}
