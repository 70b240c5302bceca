using System.Globalization;
using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// A client in the internet namespace reaches a sandbox service three ways: directly (an inbound rule), through an
/// ArcBox forward on the host's address (kernel DNAT), and through a userspace relay on the host (socat, as
/// docker-proxy does). iperf3 throughput and connections per second; alternating runs, medians.
/// </summary>
public static class ForwardBench
{
    public static int Run(int runs)
    {
        var missing = Root.WhyNot("ip", "nft", "iperf3", "socat");
        if (missing is not null)
        {
            Console.Error.WriteLine("forward bench " + missing);
            return 2;
        }

        using var net = new TestNetwork("fwdb");
        net.Create("vm", "network:\n  inbound:\n    - from: internet\n      protocol: tcp\n      ports: [5201, 3000]\n    - from: host\n      protocol: tcp\n      ports: [5201, 3000]\n");
        var vm = net.NamespaceOf("vm");
        net.Background(vm, "iperf3", "-s");
        net.Serve(vm, tcp: "3000");
        net.Arcbox("forward", "0.0.0.0:8080", "vm:5201").EnsureSuccess("forward iperf");
        net.Arcbox("forward", "0.0.0.0:8300", "vm:3000").EnsureSuccess("forward serve");
        var host = TestNetwork.NetnsPath(net.Host);
        net.Background(host, "socat", "TCP-LISTEN:9090,fork,reuseaddr", "TCP:10.0.0.2:5201");
        net.Background(host, "socat", "TCP-LISTEN:9300,fork,reuseaddr", "TCP:10.0.0.2:3000");
        Thread.Sleep(700);
        var inet = TestNetwork.NetnsPath(net.Internet);
        var paths = new (string Name, string Host, int Iperf, int Serve)[]
        {
            ("direct to the sandbox", "10.0.0.2", 5201, 3000),
            ("ArcBox forward (kernel DNAT)", TestNetwork.HostUplink, 8080, 8300),
            ("socat relay on the host", TestNetwork.HostUplink, 9090, 9300),
        };
        var results = paths.ToDictionary(p => p.Name, _ => new List<(double Gbps, double Cps)>());
        for (var r = 0; r < runs; r++)
        {
            foreach (var p in paths)
            {
                var iperf = ProcessRunner.Run("nsenter", [$"--net={inet}", "iperf3", "-c", p.Host, "-p", p.Iperf.ToString(CultureInfo.InvariantCulture), "-t", "3", "-J"], timeoutMs: 30_000).EnsureSuccess("iperf3");
                var bps = JsonDocument.Parse(iperf.Stdout).RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
                var cps = double.Parse(net.Python(inet, "connrate.py", p.Host, p.Serve.ToString(CultureInfo.InvariantCulture), "3").EnsureSuccess("connrate").Stdout.Trim(), CultureInfo.InvariantCulture);
                results[p.Name].Add((bps / 1e9, cps));
            }
        }

        Console.WriteLine($"# forward bench: {runs} alternating runs, medians; client in the internet namespace");
        Console.WriteLine("| path | TCP Gbit/s | ratio | connections/s | ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var direct = results[paths[0].Name];
        var directGbps = Stats.Median(direct.Select(x => x.Gbps));
        var directCps = Stats.Median(direct.Select(x => x.Cps));
        foreach (var p in paths)
        {
            var gbps = Stats.Median(results[p.Name].Select(x => x.Gbps));
            var cps = Stats.Median(results[p.Name].Select(x => x.Cps));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {p.Name} | {gbps:F2} | {gbps / directGbps:F2}x | {cps:F0} | {cps / directCps:F2}x |"));
        }

        return 0;
    }
}
