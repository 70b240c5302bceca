using System.Globalization;
using System.Net;
using ArcBox.Netfilter.Tuples;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using CsCheck;

namespace ArcBox.Netfilter.Tests.Tuples;

/// <summary>
/// Random sequences of creates, policy swaps, removals, learnt addresses and time passing, each delta applied to a
/// model of the kernel's sets: a delete must find its element, an add must not find one (unless it was left to
/// expire), expired elements leave. After every step the kernel model holds exactly the layout's live elements,
/// every sandbox's elements are what the compiler makes of its policy with the current directory (`sandbox:NAME`
/// included), and the shape counts are right.
/// </summary>
public sealed class TupleLayoutTests
{
    private static readonly string[] Names = ["alpha", "beta", "gamma", "s3", "s4", "s5", "s6"];

    private static readonly (string Address, string Domain)[] Answers =
        [("203.0.113.77", "pypi.org"), ("8.8.8.8", "a.example.com"), ("2606:4700::1111", "files.pythonhosted.org"), ("203.0.113.77", "other.net")];

    [Fact]
    public void Deltas_take_the_kernel_exactly_to_the_layout()
    {
        var step = Gen.Select(Gen.Int[0, 5], Gen.Int[0, Names.Length - 1], PolicyGenerator.Yaml(ipv6: true, allowDomains: true, maxRules: 5), Gen.Int[0, Answers.Length - 1], Gen.Int[1, 120]);
        step.Array[10, 60].Sample(Run, iter: 80);
    }

    private static void Run((int Op, int Name, string Yaml, int Answer, int Seconds)[] steps)
    {
        var network = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00::/64"));
        var layout = TupleLayout.Empty(network);
        var kernel = new Dictionary<TupleElement, DateTime?>();
        var now = new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);
        var log = new List<string>();
        foreach (var (op, pick, yaml, answer, seconds) in steps)
        {
            var name = Names[pick];
            var present = layout.Sandboxes.ContainsKey(name);
            TupleDelta delta;
            switch (op)
            {
                case 0 or 1 when !present:
                {
                    var i = Array.IndexOf(Names, name) + 10;
                    var addresses = new SandboxAddresses(IPAddress.Parse($"10.0.0.{i}"), IPAddress.Parse($"fd00::{i.ToString(CultureInfo.InvariantCulture)}"));
                    (layout, delta) = layout.Add(name, "ab-" + name, addresses, Parse(yaml), now);
                    log.Add($"add {name}");
                    break;
                }

                case 1 or 2 when present:
                    (layout, delta) = layout.Replace(name, Parse(yaml), now);
                    log.Add($"replace {name}");
                    break;
                case 3 when present:
                {
                    var (address, domain) = Answers[answer];
                    var policy = layout.Sandboxes[name].Policy;
                    var rules = policy.Outbound.Select((r, i) => (r, i)).Where(x => x.r.Domains.Any(d => d.Matches(domain))).Select(x => x.i).ToList();
                    (layout, delta) = layout.Admit(name, IPAddress.Parse(address), rules, TimeSpan.FromSeconds(seconds), now);
                    log.Add($"admit {name} {address} ({domain}) for {seconds}s");
                    break;
                }

                case 4 when present:
                    (layout, delta) = layout.Remove(name, now);
                    log.Add($"remove {name}");
                    break;
                default:
                    now = now.AddSeconds(seconds);
                    foreach (var gone in kernel.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToList())
                    {
                        kernel.Remove(gone);
                    }

                    log.Add($"{seconds}s pass");
                    continue;
            }

            var trace = string.Join("; ", log);
            foreach (var e in delta.Delete)
            {
                Assert.True(kernel.Remove(e), $"delete of an element the kernel does not hold: {e}\n{trace}");
            }

            foreach (var (e, timeout) in delta.Add)
            {
                Assert.True(!kernel.TryGetValue(e, out var had) || (had is { } expiry && expiry - now <= TimeSpan.FromSeconds(2)), $"add of an element the kernel holds: {e}\n{trace}");
                Assert.True(timeout is null || timeout > TimeSpan.Zero, $"non-positive timeout for {e}\n{trace}");
                kernel[e] = timeout is { } t ? now + t : null;
            }

            var live = kernel.Where(kv => kv.Value is null || kv.Value > now).Select(kv => kv.Key).ToHashSet();
            Assert.True(live.SetEquals(layout.Elements(now).Select(x => x.Element)), $"kernel and layout differ\n{trace}");
            foreach (var (n, sandbox) in layout.Sandboxes)
            {
                Assert.True(sandbox.Elements.SetEquals(TupleCompiler.Compile(layout.View, sandbox.Interface, sandbox.Policy)), $"{n}'s elements are stale\n{trace}");
            }

            var stored = layout.Sandboxes.Values.SelectMany(s => s.Elements.Concat(s.Learnt.Values.SelectMany(l => l.Elements.Keys))).GroupBy(e => e.Tuple).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(stored.OrderBy(kv => kv.Key.Name), layout.Shapes.OrderBy(kv => kv.Key.Name));
            Assert.All(delta.NewShapes.Concat(delta.GoneShapes), t => Assert.Contains(TupleRenderer.ChainOf(t), delta.Chains));
        }
    }

    /// <summary>
    /// A layout of sandboxes that name each other, each taught one address per name, names the same rule as the
    /// evaluator for flows of every path: what a flow log of a logged packet will say.
    /// </summary>
    [Fact]
    public void Decide_names_the_evaluators_rule()
    {
        var flows = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 20], Gen.Int[0, 12], Gen.Int[0, 3]).Array[30];
        Gen.Select(PolicyGenerator.Yaml(ipv6: true, allowDomains: true, maxRules: 5).Array[3], flows).Sample((yamls, picks) =>
        {
            var now = new DateTime(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);
            var layout = TupleLayout.Empty(NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00::/64")));
            var names = PolicyGenerator.SandboxNames;
            for (var i = 0; i < names.Length; i++)
            {
                layout = layout.Add(names[i], "ab-" + names[i], new SandboxAddresses(IPAddress.Parse($"10.0.0.{i + 10}"), IPAddress.Parse($"fd00::{i + 10}")), Parse(yamls[i]), now).Next;
            }

            // One name per address, so that the evaluator's one domain per flow is the whole of what was learnt.
            var learnt = new[] { ("203.0.113.77", "pypi.org"), ("8.8.8.8", "a.example.com"), ("2606:4700::1111", "files.pythonhosted.org") };
            foreach (var name in names)
            {
                foreach (var (address, domain) in learnt)
                {
                    var rules = layout.Sandboxes[name].Policy.Outbound.Select((r, i) => (r, i)).Where(x => x.r.Domains.Any(d => d.Matches(domain))).Select(x => x.i);
                    layout = layout.Admit(name, IPAddress.Parse(address), rules, TimeSpan.FromMinutes(5), now).Next;
                }
            }

            string[] peers = ["10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.99", "203.0.113.77", "8.8.8.8", "2606:4700::1111", "203.0.113.5",
                "192.168.1.1", "169.254.169.254", "fd00::10", "fd00::11", "2001:db8::1", "10.0.0.1", "fd00::1", "198.51.100.7", "1.1.1.1",
                "172.16.0.1", "fd00:ec2::254", "100.64.0.1", "192.0.2.1"];
            int[] ports = [22, 53, 80, 443, 5432, 8080, 1, 1024, 65535, 3000, 53, 8443, 30000];
            foreach (var (who, direction, peerPick, portPick, l4) in picks)
            {
                var name = names[who];
                var sandbox = layout.Sandboxes[name];
                var peer = IPAddress.Parse(peers[peerPick]);
                var outbound = direction != 1;
                var protocol = l4 switch { 0 => Protocol.Tcp, 1 => Protocol.Udp, _ => Protocol.Icmp };
                var domain = outbound ? learnt.Where(l => l.Item1 == peer.ToString()).Select(l => l.Item2).FirstOrDefault() : null;
                var flow = new Flow(outbound ? Direction.Outbound : Direction.Inbound, protocol, peer, ports[portPick], domain);
                var expected = PolicyEvaluator.Evaluate(sandbox.Policy, sandbox.Addresses, layout.View, flow);

                var to = TupleFlow.Of(layout.View, flow)!.Value;
                Assert.True(expected.RuleId == layout.Decide(name, to.Path, to.Protocol, to.Port, to.Peer, now), $"{name} {flow} (domain {domain}): evaluator {expected}\n{sandbox.Policy.Source}");
            }
        }, iter: 150);
    }

    private static SandboxPolicy Parse(string yaml) => PolicyParser.Parse(yaml, "gen.yaml").Policy ?? throw new InvalidOperationException(yaml);
}
