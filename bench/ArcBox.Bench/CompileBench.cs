using System.Diagnostics;
using System.Globalization;
using System.Net;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Policy;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using CsCheck;

namespace ArcBox.Bench;

/// <summary>
/// Compile time and script size for 1, 1,000 and 10,000 sandboxes (a mix of the seed policy and random policies),
/// and, as root, the time the kernel takes to load the script into a throwaway namespace. Medians of several runs.
/// </summary>
public static class CompileBench
{
    public static int Run(int runs, bool load)
    {
        var network = NetworkConfig.Create("ab", IPNetwork.Parse("10.0.0.0/16"), IPNetwork.Parse("fd00:ab::/64"));
        var seedPath = Path.Combine(RepoPaths.Examples, "seed.yaml");
        var seed = PolicyParser.Parse(File.ReadAllText(seedPath), seedPath).Policy!;
        Console.WriteLine($"# compile bench: {runs} runs per size (kernel load: {Math.Min(runs, 3)}), median; dual-stack network");
        Console.WriteLine("# mix 'seed': every sandbox has the seed policy; mix 'random': seed and 200 random policies (up to 5 rules each way, domains included) in turn");
        Console.WriteLine("| mix | sandboxes | compile (ms) | per sandbox (µs) | script (bytes) | script per sandbox (bytes) | kernel load (ms) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var random = PolicyGenerator.Yaml(ipv6: true).Array[200].Single(_ => true, "0N0XIzNsQ0O2")
            .Select(y => PolicyParser.Parse(y, "r.yaml").Policy!).ToArray();
        foreach (var (mix, pick) in new (string, Func<int, SandboxPolicy>)[] { ("seed", _ => seed), ("random", i => i % 2 == 0 ? seed : random[i / 2 % random.Length]) })
        {
            foreach (var n in new[] { 1, 1_000, 10_000 })
            {
                RunOne(network, mix, n, pick, runs, load);
            }
        }

        return 0;
    }

    private static void RunOne(NetworkConfig network, string mix, int n, Func<int, SandboxPolicy> pick, int runs, bool load)
    {
        {
            var sandboxes = Enumerable.Range(0, n).Select(i => (
                Identity: SandboxIdentity.Create(network, $"s{i}", IPAddress.Parse($"10.0.{(i + 2) / 250}.{((i + 2) % 250) + 2}"), IPAddress.Parse($"fd00:ab::{i + 2:x}")),
                Policy: pick(i))).ToArray();
            var times = new List<double>();
            string script = "";
            for (var r = 0; r < runs + 1; r++)
            {
                var sw = Stopwatch.StartNew();
                var plans = new SandboxPlan[n];
                for (var i = 0; i < n; i++)
                {
                    plans[i] = SandboxCompiler.Compile(network, sandboxes[i].Identity, sandboxes[i].Policy);
                }

                script = NftRenderer.RenderRuleset(BaseTableBuilder.Build(network), plans);
                sw.Stop();
                if (r > 0)
                {
                    times.Add(sw.Elapsed.TotalMilliseconds); // run 0 warms the JIT
                }
            }

            var median = Stats.Median(times);
            var loadMs = load ? LoadMedian(script, runs) : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {mix} | {n:N0} | {median:F1} | {median * 1000 / n:F1} | {script.Length:N0} | {script.Length / n:N0} | {(double.IsNaN(loadMs) ? "n/a" : loadMs.ToString("F0", CultureInfo.InvariantCulture))} |"));
        }
    }

    private static double LoadMedian(string script, int runs)
    {
        var times = new List<double>();
        for (var r = 0; r < Math.Min(runs, 3); r++)
        {
            using var ns = new TestNamespace("bench");
            var sw = Stopwatch.StartNew();
            ns.Nft(script).EnsureSuccess("nft -f");
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        return Stats.Median(times);
    }
}
