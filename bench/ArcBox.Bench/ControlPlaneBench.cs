using System.Diagnostics;
using System.Globalization;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// Control-plane figures through the real API of a real daemon: create and rm latency (p50/p99) with 0 and 1,000
/// existing sandboxes, for netns and tap; policy swap latency; daemon RSS with 1,000 sandboxes; idle CPU. With
/// "both", the whole run is made twice in a row: nft changes as netlink batches (the daemon's way) and through
/// libnftables (ARCBOX_NFT_WRITER=libnftables), and the last table compares them.
/// </summary>
public static class ControlPlaneBench
{
    private static readonly string Seed = File.ReadAllText(Path.Combine(RepoPaths.Examples, "seed.yaml"));

    public static int Run(int samples, int existing, string writers)
    {
        var list = writers == "both" ? new[] { "netlink", "libnftables" } : [writers];
        if (list.Any(w => w is not ("netlink" or "libnftables")))
        {
            Console.Error.WriteLine($"control bench: unknown writer '{writers}' (netlink, libnftables or both)");
            return 2;
        }

        var results = list.Select(w => (Writer: w, Figures: RunOne(samples, existing, w))).ToList();
        if (results.Count > 1)
        {
            Console.WriteLine();
            Console.WriteLine($"# netlink batches against libnftables, same run, {existing:N0} existing (p50, ms)");
            Console.WriteLine("| figure | netlink | libnftables | ratio |");
            Console.WriteLine("|---|---:|---:|---:|");
            foreach (var key in results[0].Figures.Keys)
            {
                var a = results[0].Figures[key];
                var b = results[1].Figures[key];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {key} | {a:F1} | {b:F1} | {a / b:F2}x |"));
            }
        }

        return 0;
    }

    private static Dictionary<string, double> RunOne(int samples, int existing, string writer)
    {
        // The daemon reads it at start; children inherit this process's environment.
        Environment.SetEnvironmentVariable("ARCBOX_NFT_WRITER", writer);
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        using var net = new TestNetwork("cpb", subnet: "10.0.0.0/18");
        using var api = net.Api();

        // A host at work tracks connections. One held over loopback in the daemon's namespace makes every policy
        // swap and rm walk the conntrack table, as they would there (with none tracked, the daemon skips the walk).
        net.PythonServer(TestNetwork.NetnsPath(net.Host), "hold.py", "--serve", "7000");
        net.StartPython(TestNetwork.NetnsPath(net.Host), "hold.py", "127.0.0.1", "7000", "86400");
        Console.WriteLine($"# control-plane bench ({writer}): {samples} samples per cell, latency seen by an API client over the Unix socket");
        Console.WriteLine("| existing | kind | create p50 (ms) | create p99 (ms) | rm p50 (ms) | rm p99 (ms) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");

        // One throwaway create and rm of each kind first: the daemon's first request JIT-compiles its code paths.
        foreach (var kind in new[] { "netns", "tap" })
        {
            Call(api, HttpMethod.Post, "v1/sandboxes", new CreateRequest($"warm-{kind}", kind, null, null, null));
            Call(api, HttpMethod.Delete, $"v1/sandboxes/warm-{kind}", null);
        }

        Cells(api, 0, samples, null);
        var fill = Stopwatch.StartNew();
        for (var i = 0; i < existing; i++)
        {
            Call(api, HttpMethod.Post, "v1/sandboxes", new CreateRequest($"e{i}", i % 2 == 0 ? null : "tap", new PolicyInput(null, Seed, "seed.yaml"), null, null));
        }

        var fillSeconds = fill.Elapsed.TotalSeconds;
        Cells(api, existing, samples, figures);

        var swaps = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var policy = i % 2 == 0 ? new PolicyInput("offline", null, null) : new PolicyInput(null, Seed, "seed.yaml");
            swaps.Add(Call(api, HttpMethod.Put, $"v1/sandboxes/e{i % existing}/policy", policy));
        }

        Console.WriteLine();
        Console.WriteLine($"policy swap with {existing} existing: p50 {Percentile(swaps, 50):F1} ms, p99 {Percentile(swaps, 99):F1} ms");
        figures["policy swap"] = Percentile(swaps, 50);
        Console.WriteLine($"filling {existing} sandboxes (half netns, half tap) took {fillSeconds:F1} s ({fillSeconds * 1000 / existing:F1} ms each)");
        Console.WriteLine($"daemon RSS with {existing} sandboxes: {Rss(net.DaemonPid) / 1024.0:F1} MB");
        // Idle means steady state: let the runtime finish tiering up and collecting after the burst of creates.
        Thread.Sleep(TimeSpan.FromSeconds(20));
        Console.WriteLine($"daemon idle CPU over 20 s with {existing} sandboxes (after 20 s of rest): {IdleCpu(net.DaemonPid, TimeSpan.FromSeconds(20)):F2} % of one core");

        var restart = Stopwatch.StartNew();
        net.KillDaemon();
        net.StartDaemon();
        Console.WriteLine($"kill -9 and restart with {existing} sandboxes, until the API answers (reconcile included): {restart.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine();
        return figures;
    }

    private static void Cells(ApiClient api, int existing, int samples, Dictionary<string, double>? figures)
    {
        foreach (var kind in new[] { "netns", "tap" })
        {
            var creates = new List<double>();
            var removes = new List<double>();
            for (var i = 0; i < samples; i++)
            {
                var name = $"b{kind[0]}{i}";
                creates.Add(Call(api, HttpMethod.Post, "v1/sandboxes", new CreateRequest(name, kind, new PolicyInput(null, Seed, "seed.yaml"), null, null)));
                removes.Add(Call(api, HttpMethod.Delete, $"v1/sandboxes/{name}", null));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {existing:N0} | {kind} | {Percentile(creates, 50):F1} | {Percentile(creates, 99):F1} | {Percentile(removes, 50):F1} | {Percentile(removes, 99):F1} |"));
            if (figures is not null)
            {
                figures[$"create {kind}"] = Percentile(creates, 50);
                figures[$"rm {kind}"] = Percentile(removes, 50);
            }
        }
    }

    private static double Call(ApiClient api, HttpMethod method, string path, object? body)
    {
        var sw = Stopwatch.StartNew();
        api.SendAsync(method, path, body).GetAwaiter().GetResult();
        return sw.Elapsed.TotalMilliseconds;
    }

    public static double Percentile(List<double> values, int p)
    {
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static long Rss(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>utime + stime of the process over a window, as a percentage of one core.</summary>
    public static double IdleCpu(int pid, TimeSpan window)
    {
        static long Ticks(int pid)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        var before = Ticks(pid);
        Thread.Sleep(window);
        var ticks = Ticks(pid) - before;
        return ticks / 100.0 / window.TotalSeconds * 100;
    }
}
