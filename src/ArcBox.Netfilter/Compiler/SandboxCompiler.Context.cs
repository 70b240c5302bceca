using System.Collections.Immutable;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using static ArcBox.Netfilter.Plan.ObjectNames;

namespace ArcBox.Netfilter.Compiler;

public static partial class SandboxCompiler
{
    /// <summary>The sets and counters one sandbox's compilation creates, and how its rules are spelt.</summary>
    private sealed class Context(NetworkConfig network, SandboxIdentity identity, SandboxPolicy policy)
    {
        public ImmutableArray<NftSet>.Builder Sets { get; } = ImmutableArray.CreateBuilder<NftSet>();

        /// <summary>
        /// Protocol and port matches, one per port range; "" matches everything. No per-sandbox sets: the kernel
        /// finds a set by name with a walk over every set of the table, so 10,000 sandboxes with a set each would
        /// load in quadratic time. A few more rules in one sandbox's own chain cost nothing to the others.
        /// </summary>
        public static IEnumerable<string> Services(Rule rule)
        {
            if (rule.Protocol == Protocol.Icmp)
            {
                yield return $"meta l4proto @{Icmp}";
                yield break;
            }

            if (!rule.HasPorts)
            {
                yield return rule.Protocol == Protocol.Any ? "" : $"meta l4proto {Lower(rule.Protocol)}";
                yield break;
            }

            foreach (var ports in Intervals.MergePorts(rule.Ports))
            {
                yield return rule.Protocol == Protocol.Any
                    ? $"meta l4proto @{TcpUdp} th dport {ports}"
                    : $"{Lower(rule.Protocol)} dport {ports}";
            }
        }

        /// <summary>One match per kind of peer the rule names (the rule becomes that many nft rules, one counter).</summary>
        public IEnumerable<string> PeerMatches(Rule rule, int index)
        {
            var outbound = rule.Direction == Direction.Outbound;
            var addr = outbound ? "daddr" : "saddr";
            var key = RuleKey(rule.Direction, index);
            // CIDRs inside a link-local or metadata range are merged apart from the others: merged into a covering
            // CIDR they would lose the right to reach those addresses, which only a CIDR that names them has.
            var all = rule.Targets.OfType<CidrTarget>().Select(t => t.Cidr).ToList();
            var cidrs = Intervals.MergeNetworks(all.Where(AddressRanges.NamesGuarded))
                .Concat(Intervals.MergeNetworks(all.Where(c => !AddressRanges.NamesGuarded(c))));
            foreach (var cidr in cidrs)
            {
                var v4 = cidr.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
                var family = v4 ? "ip" : "ip6";
                if (!v4 && !network.DualStack)
                {
                    continue;
                }

                yield return AddressRanges.CoversGuarded(cidr)
                    ? $"{family} {addr} {Intervals.Format(cidr)} {family} {addr} != @{(v4 ? Guarded4 : Guarded6)}"
                    : $"{family} {addr} {Intervals.Format(cidr)}";
            }

            // Another sandbox is named by its interface: anti-spoofing ties its addresses to it.
            foreach (var sandbox in rule.Targets.OfType<SandboxTarget>().Select(s => s.Name).Distinct())
            {
                yield return $"{(outbound ? "oifname" : "iifname")} \"{InterfaceNames.For(network.Prefix, sandbox)}\"";
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
                var set4 = DomainSetName(identity.Name, index, rule.Domains, ipv6: false);
                Sets.Add(new NftSet(set4, "type ipv4_addr", "timeout", []));
                yield return $"ip daddr @{set4}";
                if (network.DualStack)
                {
                    var set6 = DomainSetName(identity.Name, index, rule.Domains, ipv6: true);
                    Sets.Add(new NftSet(set6, "type ipv6_addr", "timeout", []));
                    yield return $"ip6 daddr @{set6}";
                }
            }
        }

        /// <summary>
        /// An allow rule. Its counter is anonymous, in the rule: named counter objects would make libnftables fetch
        /// thousands of objects before every transaction (40 ms per create at 1,000 sandboxes instead of 6). The
        /// rule id in the comment groups the counters of the nft rules compiled from one policy rule.
        /// </summary>
        public void Allow(List<NftRule> chain, Rule rule, string service, string match, string verdict)
        {
            var matches = Join(service, match);
            if (policy.Log == LogMode.All)
            {
                chain.Add(new NftRule(Join(matches, Log(rule.Direction == Direction.Outbound ? "out" : "in", rule.Id)), rule.Id));
            }

            chain.Add(new NftRule(Join(matches, $"counter {verdict}"), rule.Id));
        }

        /// <summary>The default deny that ends every chain, logged (rate limited) unless the policy says none.</summary>
        public void Deny(List<NftRule> chain, string direction)
        {
            if (policy.Log == LogMode.None)
            {
                chain.Add(new NftRule("counter drop", "default"));
                return;
            }

            // The counter counts every packet; over the rate the limit does not match and the next rule drops
            // without logging.
            chain.Add(new NftRule($"counter {Log(direction, "default")} drop", "default"));
            chain.Add(new NftRule("drop", "default"));
        }

        private string Log(string direction, string ruleId) =>
            $"limit rate {network.LogRatePerSecond}/second burst {network.LogRatePerSecond * 2} packets log prefix \"{identity.Interface} {direction} {ruleId} \" group {network.LogGroup}";

        private static string Lower(Protocol p) => p.ToString().ToLowerInvariant();

        private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + " " + b;
    }
}
