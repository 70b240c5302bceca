using System.Net;
using System.Net.Sockets;
using ArcBox.Netfilter.Compiler;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Rendering;

public static partial class IptablesRenderer
{
    private sealed partial class Writer
    {
        /// <summary>A chain per rule that names the internet: it returns for every non-public range, then allows.</summary>
        /// <summary>Chains that return for addresses a rule does not reach, then apply its verdict: "internet" (not
        /// the non-public ranges) and a CIDR that covers link-local or metadata addresses (not those).</summary>
        private IEnumerable<(string Chain, string Addr, string Verdict, IEnumerable<IPNetwork> Excluded)> InternetChains()
        {
            foreach (var rule in policy.Outbound.Concat(policy.Inbound))
            {
                var outbound = rule.Direction == Direction.Outbound;
                var (addr, verdict) = (outbound ? "-d" : "-s", outbound ? "ARCBOX-DELIVER" : "ACCEPT");
                if (rule.Targets.Contains(Target.Internet))
                {
                    yield return (InternetChain(rule), addr, verdict, AddressRanges.NonPublic4.Append(network.Subnet4));
                }

                if (GuardedCidrs(rule).Covering.Count > 0)
                {
                    yield return (GuardChain(rule), addr, verdict, AddressRanges.Guarded4);
                }
            }
        }

        private string InternetChain(Rule rule) =>
            $"{ifname}-{Compiler.SandboxCompilerNames.Key(rule)}-NET";

        private string GuardChain(Rule rule) =>
            $"{ifname}-{Compiler.SandboxCompilerNames.Key(rule)}-LL";

        /// <summary>The rule's IPv4 CIDRs: those that reach their addresses directly, and those that cover link-local
        /// or metadata addresses they do not name (merged apart, as the nft rules are).</summary>
        private static (List<IPNetwork> Plain, List<IPNetwork> Covering) GuardedCidrs(Rule rule)
        {
            var all = rule.Targets.OfType<CidrTarget>().Select(t => t.Cidr).Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork).ToList();
            var merged = Intervals.MergeNetworks(all.Where(AddressRanges.NamesGuarded)).Concat(Intervals.MergeNetworks(all.Where(c => !AddressRanges.NamesGuarded(c)))).ToList();
            return ([.. merged.Where(c => !AddressRanges.CoversGuarded(c))], [.. merged.Where(AddressRanges.CoversGuarded)]);
        }

        private void WriteRules(IEnumerable<Rule> rules, string chain, string? hostChain, string verdict)
        {
            foreach (var rule in rules)
            {
                var outbound = rule.Direction == Direction.Outbound;
                var comment = $"-m comment --comment \"{rule.Id}\"";
                foreach (var service in Services(rule))
                {
                    foreach (var peer in Peers(rule, outbound))
                    {
                        Line($"-A {chain} {Join(service, peer.Match)} {comment} -j {peer.Jump ?? verdict}");
                    }

                    if (hostChain is not null && rule.Targets.Contains(Target.Host))
                    {
                        Line($"-A {hostChain} {service} {comment} -j ACCEPT");
                    }
                }

                if (outbound && hostChain is not null)
                {
                    foreach (var p in new[] { Protocol.Udp, Protocol.Tcp })
                    {
                        if (rule.MatchesService(p, 53))
                        {
                            Line($"-A {hostChain} -p {Lower(p)} --dport 53 {comment} -j ACCEPT");
                        }
                    }
                }
            }
        }

        private IEnumerable<(string Match, string? Jump)> Peers(Rule rule, bool outbound)
        {
            var addr = outbound ? "-d" : "-s";
            var (cidrs, covering) = GuardedCidrs(rule);
            if (cidrs.Count > 0)
            {
                yield return ($"{addr} {string.Join(',', cidrs)}", null);
            }

            if (covering.Count > 0)
            {
                yield return ($"{addr} {string.Join(',', covering)}", GuardChain(rule));
            }

            foreach (var s in rule.Targets.OfType<SandboxTarget>().Select(s => s.Name).Distinct())
            {
                yield return ($"{(outbound ? "-o" : "-i")} {InterfaceNames.For(network.Prefix, s)}", null);
            }

            if (rule.Targets.Contains(Target.Network))
            {
                yield return ($"{addr} {network.Subnet4}", null);
            }

            if (rule.Targets.Contains(Target.Internet))
            {
                yield return ("", InternetChain(rule));
            }
        }

        /// <summary>Protocol and port matches; multiport takes at most 15 ports (a range counts twice).</summary>
        private static IEnumerable<string> Services(Rule rule)
        {
            if (rule.Protocol == Protocol.Icmp)
            {
                yield return "-p icmp";
                yield break;
            }

            var protocols = rule.Protocol switch
            {
                Protocol.Tcp => ["tcp"],
                Protocol.Udp => ["udp"],
                _ when rule.HasPorts => new[] { "tcp", "udp" },
                _ => [""],
            };
            var ports = Intervals.MergePorts(rule.Ports);
            foreach (var p in protocols)
            {
                if (ports.IsEmpty)
                {
                    yield return p.Length == 0 ? "" : $"-p {p}";
                    continue;
                }

                var chunk = new List<string>();
                var weight = 0;
                foreach (var range in ports)
                {
                    var w = range.IsSingle ? 1 : 2;
                    if (weight + w > MultiportMax)
                    {
                        yield return Multiport(p, chunk);
                        chunk.Clear();
                        weight = 0;
                    }

                    chunk.Add(range.IsSingle ? range.ToString() : $"{range.First}:{range.Last}");
                    weight += w;
                }

                yield return Multiport(p, chunk);
            }
        }

        private static string Multiport(string protocol, List<string> ports) =>
            ports.Count == 1 ? $"-p {protocol} --dport {ports[0]}" : $"-p {protocol} -m multiport --dports {string.Join(',', ports)}";

        private void Deny(string chain, string direction)
        {
            if (policy.Log != LogMode.None)
            {
                var rate = network.LogRatePerSecond;
                Line($"-A {chain} -m limit --limit {rate}/sec --limit-burst {rate * 2} -j NFLOG --nflog-group {network.LogGroup} --nflog-prefix \"{ifname} {direction} default\"");
            }

            Line($"-A {chain} -m comment --comment \"default\" -j DROP");
        }

        private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + " " + b;

        private static string Lower(Protocol p) => p.ToString().ToLowerInvariant();
    }
}
