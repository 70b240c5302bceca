using System.Diagnostics;
using System.Globalization;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// Issue 7's figures: (1) bandwidth limits, measured TCP goodput against the configured rate, both directions, up
/// to 1 gbit; (2) what logging costs the datapath: TCP throughput and new connections per second with `log: all`
/// against `log: none`; (3) the daemon's CPU and memory while a sandbox floods denied datagrams at about 100k
/// packets per second; (4) the cost of reading every counter (GET /v1/stats) with 1,000 sandboxes. Medians.
/// </summary>
public static class ObservabilityBench
{
    /// <param name="only">bandwidth, logging, flood or stats: that part alone (default: all).</param>
    public static int Run(int runs, string? only = null)
    {
        var missing = Root.WhyNot("ip", "nft", "iperf3", "tc");
        if (missing is not null)
        {
            Console.Error.WriteLine("observability bench " + missing);
            return 2;
        }

        Console.WriteLine($"# observability bench: medians of {runs} runs");
        var parts = new Dictionary<string, Action>
        {
            ["bandwidth"] = () => Bandwidth(runs),
            ["logging"] = () => LoggingCost(runs),
            ["flood"] = Flood,
            ["stats"] = () => StatsAtScale(runs),
        };
        if (only is not null && !parts.ContainsKey(only))
        {
            Console.Error.WriteLine($"observability bench: unknown part '{only}'; expected {string.Join(", ", parts.Keys)}");
            return 2;
        }

        foreach (var (name, part) in parts.Where(p => only is null || p.Key == only))
        {
            part();
        }

        return 0;
    }

    private static string Policy(string extra) => "network:\n  outbound:\n    - protocol: tcp\n      ports: [80, 5201]\n    - protocol: udp\n      port: 5201\n" + extra;

    private static void Bandwidth(int runs)
    {
        using var net = new TestNetwork("bwb");
        net.Background(TestNetwork.NetnsPath(net.Internet), "iperf3", "-s");
        net.Create("bw", Policy(""));
        var ns = net.NamespaceOf("bw");
        Thread.Sleep(500);
        Console.WriteLine();
        Console.WriteLine("| configured rate | upload (egress) | ratio | download (ingress) | ratio |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (var (text, bits) in new[] { ("10mbit", 10e6), ("100mbit", 100e6), ("1gbit", 1e9) })
        {
            net.SetPolicy("bw", Policy($"  bandwidth:\n    egress: {text}\n    ingress: {text}\n"));
            var up = Stats.Median(Enumerable.Range(0, runs).Select(_ => Iperf(ns, reverse: false)));
            var down = Stats.Median(Enumerable.Range(0, runs).Select(_ => Iperf(ns, reverse: true)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {text} | {up / 1e6:F1} Mbit/s | {up / bits:F3} | {down / 1e6:F1} Mbit/s | {down / bits:F3} |"));
        }
    }

    private static void LoggingCost(int runs)
    {
        using var net = new TestNetwork("logb");
        var inet = TestNetwork.NetnsPath(net.Internet);
        net.Background(inet, "iperf3", "-s");
        net.Serve(inet, tcp: "80");
        net.Create("none", Policy("  log: none\n"));
        net.Create("all", Policy("  log: all\n"));
        Thread.Sleep(500);
        var results = new Dictionary<string, List<(double Bps, double Cps)>> { ["none"] = [], ["all"] = [] };
        for (var r = 0; r < runs; r++)
        {
            foreach (var name in new[] { "none", "all" })
            {
                var ns = net.NamespaceOf(name);
                var cps = double.Parse(net.Python(ns, "connrate.py", TestNetwork.WebServer, "80", "3").EnsureSuccess("connrate").Stdout.Trim(), CultureInfo.InvariantCulture);
                results[name].Add((Iperf(ns, reverse: false), cps));
            }
        }

        var none = (Stats.Median(results["none"].Select(x => x.Bps)), Stats.Median(results["none"].Select(x => x.Cps)));
        var all = (Stats.Median(results["all"].Select(x => x.Bps)), Stats.Median(results["all"].Select(x => x.Cps)));
        var events = net.Get("v1/sandboxes/all/logs?limit=100000").GetArrayLength();
        Console.WriteLine();
        Console.WriteLine("| policy log mode | TCP Gbit/s | ratio | new connections/s | ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| log: none (baseline) | {none.Item1 / 1e9:F2} | 1.00x | {none.Item2:F0} | 1.00x |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| log: all | {all.Item1 / 1e9:F2} | {all.Item1 / none.Item1:F2}x | {all.Item2:F0} | {all.Item2 / none.Item2:F2}x |"));
        Console.WriteLine($"<!-- log: all kept {events} events in its ring (the kernel logs at most 20 per second per rule) -->");
    }

    private static void Flood()
    {
        using var net = new TestNetwork("floodb");
        net.Create("flood", "network:\n  outbound: []\n");
        var ns = net.NamespaceOf("flood");
        var pid = net.DaemonPid;
        Thread.Sleep(1000);
        var (cpu0, rss0) = Usage(pid);
        var clock = Stopwatch.StartNew();

        // Paced at 100k datagrams per second to 1,000 ports (each a new flow, each dropped by the default rule).
        var flood = net.Background(ns, "/usr/bin/python3", "-c",
            "import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nstart=time.time()\nn=0\n"
            + "while time.time()-start<10:\n  for i in range(1000):\n    s.sendto(b'x',('203.0.113.10',4000+i))\n  n+=1000\n"
            + "  ahead=n/100000-(time.time()-start)\n  if ahead>0: time.sleep(ahead)\nprint(n)");
        var rssPeak = rss0;
        while (!flood.HasExited)
        {
            rssPeak = Math.Max(rssPeak, Usage(pid).Rss);
            Thread.Sleep(200);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var (cpu1, rss1) = Usage(pid);
        var sent = long.Parse(flood.StandardOutput.ReadToEnd().Trim(), CultureInfo.InvariantCulture);
        var stats = net.Get("v1/sandboxes/flood/stats");
        var events = net.Get("v1/sandboxes/flood/logs?limit=100000").GetArrayLength();
        Console.WriteLine();
        Console.WriteLine("| drop flood | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| datagrams sent (10 s) | {sent:N0} ({sent / seconds:N0}/s) |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| dropped, counted by the kernel | {stats.GetProperty("outDropped").GetProperty("packets").GetInt64():N0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| flow events kept (ring of 1,000; kernel limit 20/s per rule) | {events} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| daemon CPU during the flood | {(cpu1 - cpu0) / seconds * 100:F1}% of one core |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| daemon RSS before / peak / after | {rss0 / 1024} / {rssPeak / 1024} / {rss1 / 1024} MB |"));
    }

    private static void StatsAtScale(int runs)
    {
        using var net = new TestNetwork("statb", subnet: "10.0.0.0/20");
        var create = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
        {
            net.Create($"s{i}", Policy(""), attach: "tap");
        }

        Console.WriteLine();
        Console.WriteLine($"<!-- created 1,000 tap sandboxes in {create.Elapsed.TotalSeconds:F0} s -->");
        Console.WriteLine("| reading the counters of 1,000 sandboxes | median time | daemon CPU per read | polled every second |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (what, path) in new[] { ("GET /v1/stats (totals: top)", "v1/stats"), ("GET /v1/stats?rules=true (every rule)", "v1/stats?rules=true"), ("GET /metrics (every series)", "metrics") })
        {
            var pid = net.DaemonPid;
            var times = new List<double>();
            var (cpu0, _) = Usage(pid);
            var samples = Math.Max(10, runs * 4);
            for (var i = 0; i < samples; i++)
            {
                var t = Stopwatch.StartNew();
                using var api = net.Api();
                var (body, _) = api.GetBytesAsync(path).GetAwaiter().GetResult();
                times.Add(t.Elapsed.TotalMilliseconds);
                if (body.Length < 1000 * 20)
                {
                    throw new InvalidOperationException($"{path} answered only {body.Length} bytes for 1,000 sandboxes");
                }
            }

            var (cpu1, _) = Usage(pid);
            var cpu = (cpu1 - cpu0) / samples;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {Stats.Median(times):F0} ms | {cpu * 1000:F0} ms | {cpu * 100:F1}% of a core |"));
        }
    }

    /// <summary>Process CPU seconds (user + system, from /proc/PID/stat) and resident KiB.</summary>
    private static (double CpuSeconds, long Rss) Usage(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        var rss = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (ticks / 100.0, long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture));
    }

    private static double Iperf(string ns, bool reverse) => ArcBox.Testing.Iperf.Goodput(ns, TestNetwork.WebServer, reverse);
}
