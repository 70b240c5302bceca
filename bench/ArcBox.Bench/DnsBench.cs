using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// dnsperf against the ArcBox resolver (from a sandbox, through its veth) and against dnsmasq (from the host
/// namespace, through the uplink veth), same records, same run: (a) 1,000 local records, (b) names forwarded to
/// an upstream dnsmasq in another namespace (both sides cache). Queries per second at full load, and p50/p99
/// latency at a fixed 2,000 queries per second. Medians of alternating runs. With DNSBENCH_HOLD=FILE it only
/// sets up, writes the namespaces and directory to FILE and waits until FILE is deleted, for dnsperf and perf by
/// hand against the same setup.
/// </summary>
public static class DnsBench
{
    private const string Upstream = TestNetwork.DnsServer;
    private const string LocalDnsmasq = "203.0.113.54";
    private const string ForwardingDnsmasq = "203.0.113.55";
    private const int Records = 1000;

    public static int Run(int runs)
    {
        var missing = Root.WhyNot("ip", "nft", "dnsperf", "dnsmasq");
        if (missing is not null)
        {
            Console.Error.WriteLine("dns bench " + missing);
            return 2;
        }

        var policy = new StringBuilder("network:\n  outbound:\n    - protocol: udp\n      port: 53\n  dns:\n    records:\n");
        var hosts = new StringBuilder();
        for (var i = 0; i < Records; i++)
        {
            var address = $"10.1.{i / 250}.{(i % 250) + 1}";
            policy.Append(CultureInfo.InvariantCulture, $"      r{i}.bench.internal: {address}\n");
            hosts.Append(CultureInfo.InvariantCulture, $"{address} r{i}.bench.internal\n");
        }

        using var net = new TestNetwork("dnsb", configExtra: $"dns:\n  upstream: [{Upstream}]\n  queries_per_second: 1000000\n  log_size: 100\n");
        var dir = net.Directory;
        File.WriteAllText(Path.Combine(dir, "hosts"), hosts.ToString());
        File.WriteAllText(Path.Combine(dir, "local.txt"), string.Concat(Enumerable.Range(0, Records).Select(i => $"r{i}.bench.internal A\n")));
        File.WriteAllText(Path.Combine(dir, "forwarded.txt"), string.Concat(Enumerable.Range(0, Records).Select(i => $"n{i}.fwd.example A\n")));
        var inet = TestNetwork.NetnsPath(net.Internet);
        foreach (var address in new[] { LocalDnsmasq, ForwardingDnsmasq })
        {
            net.Internet.Exec("ip", "addr", "add", $"{address}/32", "dev", "lo").EnsureSuccess("address");
        }

        string[] common = ["--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root", "--bind-interfaces", "--pid-file=", "--cache-size=10000"];
        net.Background(inet, ["dnsmasq", .. common, $"--listen-address={Upstream}", "--address=/fwd.example/203.0.113.90", "--local-ttl=300"]);
        net.Background(inet, ["dnsmasq", .. common, $"--listen-address={LocalDnsmasq}", $"--addn-hosts={Path.Combine(dir, "hosts")}", "--local-ttl=5"]);
        net.Background(inet, ["dnsmasq", .. common, $"--listen-address={ForwardingDnsmasq}", $"--server={Upstream}"]);
        net.Create("bench", policy.ToString());
        Thread.Sleep(500);

        var sandbox = net.NamespaceOf("bench");
        var host = TestNetwork.NetnsPath(net.Host);
        if (Environment.GetEnvironmentVariable("DNSBENCH_HOLD") is { } hold)
        {
            File.WriteAllText(hold, $"sandbox={sandbox}\nhost={host}\ndir={dir}\n");
            while (File.Exists(hold))
            {
                Thread.Sleep(500);
            }

            return 0;
        }

        Console.WriteLine($"# dns bench: {runs} alternating runs, medians; {Records} names per query file");
        Console.WriteLine("| case | server | queries/s | ratio | p50 (µs) | p99 (µs) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var (name, file, dnsmasq) in new[] { ("local records", "local.txt", LocalDnsmasq), ("forwarded", "forwarded.txt", ForwardingDnsmasq) })
        {
            var path = Path.Combine(dir, file);

            // Warm both caches (and the JIT) before measuring.
            Perf(sandbox, "10.0.0.1", path, "-l", "2");
            Perf(host, dnsmasq, path, "-l", "2");
            var ours = new List<(double Qps, double P50, double P99)>();
            var theirs = new List<(double Qps, double P50, double P99)>();
            for (var r = 0; r < runs; r++)
            {
                ours.Add(Measure(sandbox, "10.0.0.1", path));
                theirs.Add(Measure(host, dnsmasq, path));
            }

            var baseline = Stats.Median(theirs.Select(t => t.Qps));
            Row(name, "dnsmasq 2.90", theirs, baseline);
            Row(name, "ArcBox", ours, baseline);
        }

        return 0;
    }

    private static void Row(string name, string server, List<(double Qps, double P50, double P99)> xs, double baseline)
    {
        var qps = Stats.Median(xs.Select(x => x.Qps));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {server} | {qps:F0} | {qps / baseline:F2}x | {Stats.Median(xs.Select(x => x.P50)):F0} | {Stats.Median(xs.Select(x => x.P99)):F0} |"));
    }

    private static (double Qps, double P50, double P99) Measure(string ns, string server, string file)
    {
        var load = Perf(ns, server, file, "-l", "5", "-c", "4", "-q", "400");
        var qps = double.Parse(Regex.Match(load, @"Queries per second:\s+([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        var verbose = Perf(ns, server, file, "-l", "3", "-Q", "2000", "-v");
        var latencies = Regex.Matches(verbose, @"^> \S+ \S+ \S+ ([\d.]+)$", RegexOptions.Multiline)
            .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * 1e6).Order().ToArray();
        if (latencies.Length == 0)
        {
            throw new InvalidOperationException("no latencies in dnsperf -v output:\n" + verbose[..Math.Min(500, verbose.Length)]);
        }

        return (qps, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
    }

    private static string Perf(string ns, string server, string file, params string[] args) =>
        ProcessRunner.Run("nsenter", [$"--net={ns}", "dnsperf", "-s", server, "-d", file, .. args], timeoutMs: 60_000).EnsureSuccess("dnsperf").Stdout;
}
