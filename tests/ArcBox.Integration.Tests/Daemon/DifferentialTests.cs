using System.Collections.Immutable;
using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;
using CsCheck;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>
/// Random valid policies on real sandboxes and hundreds of random flows: every verdict of the kernel must be the
/// evaluator's. Reached means the kernel delivered the first packet (an answer, a TCP reset or an ICMP error came
/// back); blocked means silence (or, for the host's own connections, EPERM from its output path).
/// </summary>
public class DifferentialTests
{
    private static readonly string[] Sandboxes = PolicyGenerator.SandboxNames;
    private static readonly string[] Outside = ["203.0.113.10", "198.51.100.7", "192.0.2.1", "192.168.4.4", "172.16.5.4", "100.64.1.1", "169.254.169.254"];
    private static readonly int[] Ports = [22, 80, 443, 5432, 8080, 1500];
    private const string Served = "22,80,443,5432,8080";

    [Fact]
    public void Kernel_verdicts_equal_the_evaluators_on_random_policies_and_flows()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("diff");
        foreach (var address in Outside.Where(a => a != TestNetwork.WebServer))
        {
            net.Internet.Exec("ip", "addr", "add", $"{address}/32", "dev", "lo").EnsureSuccess("outside address");
        }

        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: Served, udp: Served);
        net.Serve(TestNetwork.NetnsPath(net.Host), tcp: Served, udp: Served);
        var policies = PolicyGenerator.Yaml(ipv6: false, allowDomains: false, maxRules: 4).Array[Sandboxes.Length * 4].Single(_ => true, "0Kz4XbM7Lq2c");
        var addresses = new Dictionary<string, IPAddress>();
        foreach (var name in Sandboxes)
        {
            addresses[name] = IPAddress.Parse(net.Create(name, "network: {}\n").GetProperty("ipv4").GetString()!);
            net.Serve(net.NamespaceOf(name), tcp: Served, udp: Served);
        }

        var view = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), null) with { HostAddresses = [IPAddress.Parse(TestNetwork.HostUplink)] };
        foreach (var (name, address) in addresses)
        {
            view = view.WithSandbox(name, new SandboxAddresses(address));
        }

        var mismatches = new List<string>();
        var checkedFlows = 0;
        for (var round = 0; round < 4; round++)
        {
            var current = new Dictionary<string, SandboxPolicy>();
            for (var i = 0; i < Sandboxes.Length; i++)
            {
                var yaml = policies[(round * Sandboxes.Length) + i];
                net.SetPolicy(Sandboxes[i], yaml);
                current[Sandboxes[i]] = PolicyParser.Parse(yaml, "p.yaml").Policy!;
            }

            var flows = RandomFlows(round, addresses);
            foreach (var group in flows.GroupBy(f => f.From))
            {
                var ns = group.Key switch
                {
                    "internet" => TestNetwork.NetnsPath(net.Internet),
                    "host" => TestNetwork.NetnsPath(net.Host),
                    var sandbox => net.NamespaceOf(sandbox),
                };
                var results = net.Probe(ns, group.Select(f => f.Spec).Distinct(), 600);
                foreach (var flow in group)
                {
                    var expected = Expected(flow, current, addresses, view);
                    // A local sender (the host) sees a drop in its output path as EPERM: blocked, like silence.
                    var reached = results[flow.Spec].StartsWith("open", StringComparison.Ordinal) || results[flow.Spec].StartsWith("closed", StringComparison.Ordinal);
                    checkedFlows++;
                    if (reached != expected.Allowed)
                    {
                        mismatches.Add($"round {round}: {flow.From} -> {flow.Spec}: kernel {(reached ? "reached" : "blocked")} ({results[flow.Spec]}), evaluator {expected}\n  policy of {flow.From}: {Yaml(flow.From, round, policies)}\n  receiver: {ReceiverYaml(flow, addresses, round, policies)}");
                    }
                }
            }
        }

        Assert.True(checkedFlows >= 300, $"only {checkedFlows} flows checked");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {checkedFlows} verdicts differ:\n" + string.Join("\n", mismatches.Take(10)));
    }

    private sealed record TestFlow(string From, Protocol Protocol, IPAddress To, int Port)
    {
        public string Spec => Protocol == Protocol.Icmp ? $"icmp:{To}" : $"{Protocol.ToString().ToLowerInvariant()}:{To}:{Port}";
    }

    private static List<TestFlow> RandomFlows(int round, Dictionary<string, IPAddress> sandboxes)
    {
        var sources = Sandboxes.Concat(["internet", "host"]).ToArray();
        var gen = Gen.Select(
            Gen.OneOfConst(sources),
            Gen.OneOfConst(Protocol.Tcp, Protocol.Udp, Protocol.Icmp),
            Gen.OneOfConst(Sandboxes.Select(s => sandboxes[s].ToString()).Concat(Outside).Concat(["10.0.0.1", TestNetwork.HostUplink]).ToArray()),
            Gen.OneOfConst(Ports),
            (from, protocol, to, port) => new TestFlow(from, protocol, IPAddress.Parse(to), protocol == Protocol.Icmp ? 0 : port));
        return [.. gen.Array[130].Single(_ => true, $"0Abc{round}Xyz91Qa").Where(f => Valid(f, sandboxes)).DistinctBy(f => (f.From, f.Spec))];
    }

    // From outside, only sandboxes are targets; a sandbox does not probe itself.
    private static bool Valid(TestFlow f, Dictionary<string, IPAddress> sandboxes) => f.From switch
    {
        "internet" or "host" => sandboxes.ContainsValue(f.To),
        var s => !sandboxes[s].Equals(f.To),
    };

    private static Decision Expected(TestFlow f, Dictionary<string, SandboxPolicy> policies, Dictionary<string, IPAddress> addresses, NetworkView view)
    {
        var receiver = addresses.FirstOrDefault(kv => kv.Value.Equals(f.To)).Key;
        if (f.From is "internet" or "host")
        {
            var source = IPAddress.Parse(f.From == "internet" ? TestNetwork.InternetRouter : "10.0.0.1");
            return PolicyEvaluator.Evaluate(policies[receiver], new SandboxAddresses(f.To), view, new Flow(Direction.Inbound, f.Protocol, source, f.Port));
        }

        if (receiver is not null)
        {
            var (sent, received) = PolicyEvaluator.EvaluateBetween(policies[f.From], f.From, policies[receiver], receiver, view, f.Protocol, f.Port);
            return sent.Allowed ? received : sent;
        }

        return PolicyEvaluator.Evaluate(policies[f.From], new SandboxAddresses(addresses[f.From]), view, new Flow(Direction.Outbound, f.Protocol, f.To, f.Port));
    }

    private static string Yaml(string sandbox, int round, string[] policies) =>
        Array.IndexOf(Sandboxes, sandbox) is var i and >= 0 ? policies[(round * Sandboxes.Length) + i].Replace("\n", " | ", StringComparison.Ordinal) : "-";

    private static string ReceiverYaml(TestFlow f, Dictionary<string, IPAddress> addresses, int round, string[] policies) =>
        addresses.FirstOrDefault(kv => kv.Value.Equals(f.To)).Key is { } r ? Yaml(r, round, policies) : "-";
}
