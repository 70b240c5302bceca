using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Netfilter.Tuples;
using ArcBox.Netfilter.Wire;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// One sandbox's create, policy swap and removal with N sandboxes loaded, as the daemon's datapath does it: compile,
/// the change, netlink encoding and one committed batch, timed together. Today's per-sandbox chains
/// (SandboxCompiler, SandboxChanges, WireRenderer) against the tuple layout (TupleLayout, TupleWire), in one run, in
/// throwaway namespaces. Every sandbox has the same seven-rule policy naming its neighbour and allowing one domain;
/// the swap changes every rule but two. "admit" is one address the resolver learnt for the domain, as the DNS
/// service hands it to the datapath.
/// </summary>
public static class ChangeBench
{
    private const string Policy = """
        network:
          outbound:
            - protocol: tcp
              ports: [80, 443, "PORTS"]
            - protocol: udp
              port: 53
              to: [host]
            - protocol: any
              ports: ["RANGE", SINGLE]
              to: [192.168.NET.0/24, "2001:db8:NET::/48"]
            - protocol: tcp
              port: DB
              to: ["sandbox:TARGET"]
            - protocol: tcp
              port: 443
              domains: ["pypi.org"]
          inbound:
            - protocol: tcp
              port: WEB
              from: [network]
            - protocol: udp
              from: [192.168.NET.0/24, "2001:db8:NET::/48"]
        """;

    public static int Run(int runs, int samples, int[] sizes)
    {
        Console.WriteLine($"# datapath change bench: {samples} samples per cell, median of {runs} runs (ms: compile + change + encode + one netlink commit)");
        var cells = new Dictionary<(string Layout, int N, string Op), List<double>>();
        for (var run = 0; run < runs; run++)
        {
            foreach (var n in sizes)
            {
                foreach (var layout in new[] { "chains", "tuples" })
                {
                    foreach (var (op, p50) in Measure(layout, n, samples))
                    {
                        (cells.TryGetValue((layout, n, op), out var list) ? list : cells[(layout, n, op)] = []).Add(p50);
                    }
                }
            }
        }

        Console.WriteLine("| layout | existing | create p50 | admit p50 | swap p50 | remove p50 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var layout in new[] { "chains", "tuples" })
        {
            foreach (var n in sizes)
            {
                string Cell(string op) => Stats.Median(cells[(layout, n, op)]).ToString("F3", CultureInfo.InvariantCulture);
                Console.WriteLine($"| {layout} | {n:N0} | {Cell("create")} | {Cell("admit")} | {Cell("swap")} | {Cell("remove")} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Ratios at {sizes[^1]:N0} against {sizes[0]:N0} existing, and tuples against chains at {sizes[^1]:N0}:");
        foreach (var op in new[] { "create", "admit", "swap", "remove" })
        {
            double M(string layout, int n) => Stats.Median(cells[(layout, n, op)]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"- {op}: chains {M("chains", sizes[^1]) / M("chains", sizes[0]):F2}x, tuples {M("tuples", sizes[^1]) / M("tuples", sizes[0]):F2}x; tuples/chains {M("tuples", sizes[^1]) / M("chains", sizes[^1]):F4}x"));
        }

        return 0;
    }

    private static SandboxPolicy PolicyFor(int index, string target, bool swapped)
    {
        var yaml = Policy.Replace("PORTS", swapped ? "9000-9100" : "8000-8100", StringComparison.Ordinal)
            .Replace("RANGE", swapped ? "6000-6100" : "5000-5100", StringComparison.Ordinal)
            .Replace("SINGLE", swapped ? "5202" : "5201", StringComparison.Ordinal)
            .Replace("NET", swapped ? "2" : "1", StringComparison.Ordinal)
            .Replace("DB", swapped ? "5433" : "5432", StringComparison.Ordinal)
            .Replace("WEB", swapped ? "8081" : "8080", StringComparison.Ordinal)
            .Replace("TARGET", target, StringComparison.Ordinal);
        return PolicyParser.Parse(yaml, $"bench{index}.yaml").Policy ?? throw new InvalidOperationException(string.Join('\n', PolicyParser.Parse(yaml, "bench.yaml").Diagnostics));
    }

    private static string Name(int i) => string.Create(CultureInfo.InvariantCulture, $"s{i:D5}");

    private static SandboxAddresses Addresses(int i) =>
        new(IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"10.0.{(i + 2) / 256}.{(i + 2) % 256}")), IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"fd00:ab::{i + 2:x}")));

    private static IEnumerable<(string Op, double P50)> Measure(string layout, int n, int samples)
    {
        var network = NetworkConfig.Create("ab", IPNetwork.Parse("10.0.0.0/16"), IPNetwork.Parse("fd00:ab::/64"));
        using var ns = new TestNamespace("chg");
        using var handle = NetworkNamespace.Open(TestNetwork.NetnsPath(ns));
        using var wire = NftNetlink.OpenIn(handle);
        var times = new Dictionary<string, List<double>> { ["create"] = [], ["admit"] = [], ["swap"] = [], ["remove"] = [] };
        var fresh = PolicyFor(n, Name(1), swapped: false);
        var swapped = PolicyFor(n, Name(1), swapped: true);
        var newAddresses = Addresses(60000);
        void Commit(ImmutableArray<WireOperation> ops) => wire.Commit(WireEncoder.Encode(network.Table, ops), i => WireEncoder.Describe(ops[i]));
        double Time(Action action)
        {
            var sw = Stopwatch.StartNew();
            action();
            return sw.Elapsed.TotalMilliseconds;
        }

        if (layout == "chains")
        {
            var basePlan = BaseTableBuilder.Build(network);
            var plans = Enumerable.Range(0, n).Select(i => SandboxCompiler.Compile(network, Identity(network, i), PolicyFor(i, Name((i + 1) % n), false))).ToList();
            Load(ns, NftRenderer.RenderRuleset(basePlan, plans), $"chains, {n:N0} sandboxes");
            var renderer = new WireRenderer(basePlan);
            var identity = SandboxIdentity.Create(network, "new", newAddresses.Ipv4, newAddresses.Ipv6);
            for (var s = 0; s < samples; s++)
            {
                SandboxPlan plan = null!;
                times["create"].Add(Time(() =>
                {
                    plan = SandboxCompiler.Compile(network, identity, fresh);
                    Commit(renderer.Render(SandboxChanges.Add(plan), plan.Sets));
                }));
                var learnt = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"203.0.113.{s % 250 + 1}"));
                var set = SandboxCompiler.DomainSetName("new", 4, fresh.Outbound[4].Domains, ipv6: false);
                times["admit"].Add(Time(() => Commit(renderer.Render(
                    [new AddElementsChange("inet", set, [string.Create(CultureInfo.InvariantCulture, $"{learnt} timeout 60s")])], plan.Sets))));
                times["swap"].Add(Time(() =>
                {
                    var next = SandboxCompiler.Compile(network, identity, swapped);
                    Commit(renderer.Render(SandboxChanges.Replace(plan, next), plan.Sets.Concat(next.Sets).DistinctBy(x => x.Name)));
                    plan = next;
                }));
                times["remove"].Add(Time(() => Commit(renderer.Render(SandboxChanges.Remove(plan), plan.Sets))));
            }
        }
        else
        {
            var view = network.ToView();
            var state = TupleLayout.Empty(view);
            var now = DateTime.UtcNow;
            for (var i = 0; i < n; i++)
            {
                state = state.Add(Name(i), InterfaceNames.For(network.Prefix, Name(i)), Addresses(i), PolicyFor(i, Name((i + 1) % n), false), now).Next;
            }

            // The lookup chains are reached from the hooks, so that a commit's validation walks them as it will in the
            // daemon.
            const string hooks = """
                  chain forward { type filter hook forward priority 0; policy drop; iifname "ab-*" jump out_lookup; oifname "ab-*" jump in_lookup; }
                  chain input { type filter hook input priority 0; policy accept; iifname "ab-*" jump host_lookup; }
                  chain output { type filter hook output priority 0; policy accept; oifname "ab-*" jump hostin_lookup; }

                """;
            Load(ns, TupleTable.BaseText(view, _ => ["accept"], hooks) + TupleTable.Text(state.Elements(now).Select(e => e.Element)), $"tuples, {n:N0} sandboxes");
            void Apply((TupleLayout Next, TupleDelta Delta) change)
            {
                var ops = TupleWire.Operations(change.Delta, change.Next.Shapes.Keys, true, TupleTable.Hit).ToImmutableArray();
                wire.Commit(WireEncoder.Encode(TupleTable.Table, ops), i => WireEncoder.Describe(ops[i]));
                state = change.Next;
            }

            for (var s = 0; s < samples; s++)
            {
                times["create"].Add(Time(() => Apply(state.Add("new", "ab-new", newAddresses, fresh, now))));
                var learnt = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"203.0.113.{s % 250 + 1}"));
                times["admit"].Add(Time(() => Apply(state.Admit("new", learnt, [4], TimeSpan.FromSeconds(60), now))));
                times["swap"].Add(Time(() => Apply(state.Replace("new", swapped, now))));
                times["remove"].Add(Time(() => Apply(state.Remove("new", now))));
            }
        }

        foreach (var (op, list) in times)
        {
            // The first sample pays JIT and cold caches.
            yield return (op, Stats.Median(list.Skip(1)));
        }
    }

    private static SandboxIdentity Identity(NetworkConfig network, int i)
    {
        var a = Addresses(i);
        return SandboxIdentity.Create(network, Name(i), a.Ipv4, a.Ipv6);
    }

    /// <summary>Loads the whole table with nft and reports how long it took: today's layout gives every sandbox with a
    /// `domains` rule sets of its own, and the kernel finds sets by name with a walk of the table's list.</summary>
    private static void Load(TestNamespace ns, string script, string what)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, script);
            var sw = Stopwatch.StartNew();
            ProcessRunner.Run("ip", ["netns", "exec", ns.Name, "nft", "-f", file], timeoutMs: 1_200_000).EnsureSuccess("loading the table");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  load {what}: {sw.Elapsed.TotalSeconds:F1} s"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
