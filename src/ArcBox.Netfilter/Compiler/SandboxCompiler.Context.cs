using System.Collections.Immutable;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Model;
using static ArcBox.Netfilter.Plan.ObjectNames;

namespace ArcBox.Netfilter.Compiler;

public static partial class SandboxCompiler
{
    /// <summary>The sets and counters one sandbox's compilation creates, and how its rules are spelt.</summary>
    private sealed class Context(NetworkConfig network, SandboxIdentity identity, SandboxPolicy policy)
    {
        public ImmutableArray<NftSet>.Builder Sets { get; } = ImmutableArray.CreateBuilder<NftSet>();

        public ImmutableArray<string>.Builder Counters { get; } = ImmutableArray.CreateBuilder<string>();

        public string Counter(string name)
        {
            Counters.Add(name);
            return name;
        }

        /// <summary>Protocol and port match; "" matches everything. Several ports go into a named set.</summary>
        public string Service(Rule rule, int index)
        {
            var ports = Intervals.MergePorts(rule.Ports);
            string? dport = null;
            if (ports.Length == 1)
            {
                dport = ports[0].ToString();
            }
            else if (ports.Length > 1)
            {
                var set = Of(identity.Name, RuleKey(rule.Direction, index) + "_port");
                Sets.Add(new NftSet(set, "type inet_service", "interval", [.. ports.Select(p => p.ToString())]));
                dport = "@" + set;
            }

            return (rule.Protocol, dport) switch
            {
                (Protocol.Icmp, _) => $"meta l4proto @{Icmp}",
                (Protocol.Any, null) => "",
                (Protocol.Any, _) => $"meta l4proto @{TcpUdp} th dport {dport}",
                (var p, null) => $"meta l4proto {Lower(p)}",
                (var p, _) => $"{Lower(p)} dport {dport}",
            };
        }

        /// <summary>One match per kind of peer the rule names (the rule becomes that many nft rules, one counter).</summary>
        public IEnumerable<string> PeerMatches(Rule rule, int index)
        {
            var outbound = rule.Direction == Direction.Outbound;
            var addr = outbound ? "daddr" : "saddr";
            var key = RuleKey(rule.Direction, index);
            var cidrs = Intervals.MergeNetworks(rule.Targets.OfType<CidrTarget>().Select(t => t.Cidr));
            var cidrs4 = cidrs.Where(n => n.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).Select(Intervals.Format).ToList();
            var cidrs6 = cidrs.Where(n => n.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork).Select(Intervals.Format).ToList();
            if (cidrs4.Count > 0)
            {
                yield return $"ip {addr} {SetOrValue(key + "_net4", "type ipv4_addr", "interval", cidrs4)}";
            }

            if (cidrs6.Count > 0 && network.DualStack)
            {
                yield return $"ip6 {addr} {SetOrValue(key + "_net6", "type ipv6_addr", "interval", cidrs6)}";
            }

            // Another sandbox is named by its interface: anti-spoofing ties its addresses to it.
            var sandboxes = rule.Targets.OfType<SandboxTarget>().Select(s => $"\"{InterfaceNames.For(network.Prefix, s.Name)}\"").Distinct().ToList();
            if (sandboxes.Count > 0)
            {
                yield return $"{(outbound ? "oifname" : "iifname")} {SetOrValue(key + "_sandbox", "type ifname", null, sandboxes)}";
            }

            if (rule.Targets.Contains(Target.Network))
            {
                yield return $"ip {addr} @{Net4}";
                if (network.DualStack)
                {
                    yield return $"ip6 {addr} @{Net6}";
                }
            }

            if (rule.Targets.Contains(Target.Internet))
            {
                yield return $"ip {addr} != @{NonPublic4}";
                if (network.DualStack)
                {
                    yield return $"ip6 {addr} != @{NonPublic6}";
                }
            }

            if (!rule.Domains.IsEmpty)
            {
                // Filled by the resolver with the public addresses of allowed answers, each with the record's TTL.
                // Named after the patterns, so a policy swap that keeps the rule keeps what was learnt.
                var tag = DomainTag(rule.Domains);
                var set4 = Of(identity.Name, $"{key}_dom4_{tag}");
                Sets.Add(new NftSet(set4, "type ipv4_addr", "timeout", []));
                yield return $"ip daddr @{set4}";
                if (network.DualStack)
                {
                    var set6 = Of(identity.Name, $"{key}_dom6_{tag}");
                    Sets.Add(new NftSet(set6, "type ipv6_addr", "timeout", []));
                    yield return $"ip6 daddr @{set6}";
                }
            }
        }

        public void Allow(List<NftRule> chain, Rule rule, string service, string match, string counter, string verdict)
        {
            var matches = Join(service, match);
            if (policy.Log == LogMode.All)
            {
                chain.Add(new NftRule(Join(matches, Log(rule.Direction == Direction.Outbound ? "out" : "in", rule.Id)), rule.Id));
            }

            chain.Add(new NftRule(Join(matches, $"counter name \"{counter}\" {verdict}"), rule.Id));
        }

        /// <summary>The default deny that ends every chain, logged (rate limited) unless the policy says none.</summary>
        public void Deny(List<NftRule> chain, string counter, string direction)
        {
            if (policy.Log == LogMode.None)
            {
                chain.Add(new NftRule($"counter name \"{counter}\" drop", "default"));
                return;
            }

            // Over the rate the limit does not match and the next rule drops without logging.
            chain.Add(new NftRule($"counter name \"{counter}\" {Log(direction, "default")} drop", "default"));
            chain.Add(new NftRule("drop", "default"));
        }

        private string Log(string direction, string ruleId) =>
            $"limit rate {network.LogRatePerSecond}/second burst {network.LogRatePerSecond * 2} packets log prefix \"{identity.Interface} {direction} {ruleId} \" group {network.LogGroup}";

        private string SetOrValue(string key, string type, string? flags, List<string> values)
        {
            if (values.Count == 1)
            {
                return values[0];
            }

            var set = Of(identity.Name, key);
            Sets.Add(new NftSet(set, type, flags, [.. values]));
            return "@" + set;
        }

        private static string DomainTag(ImmutableArray<DomainPattern> domains)
        {
            var text = string.Join(',', domains.Select(d => d.ToString()).Order(StringComparer.Ordinal));
            return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
        }

        private static string Lower(Protocol p) => p.ToString().ToLowerInvariant();

        private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + " " + b;
    }
}
