using System.Collections.Immutable;
using System.Globalization;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Model;
using static ArcBox.Netfilter.Plan.ObjectNames;

namespace ArcBox.Netfilter.Compiler;

/// <summary>
/// Compiles one sandbox's policy into its chains: "sb_NAME_out" (forward, as sender; an allow returns), "sb_NAME_in" (forward, as
/// receiver), "sb_NAME_host" (to the host) and, when a rule names the host as a source, "sb_NAME_hostin".
/// Rules keep their order, so the first nft rule that matches belongs to the rule the evaluator picks.
/// </summary>
public static partial class SandboxCompiler
{
    public static SandboxPlan Compile(NetworkConfig network, SandboxIdentity identity, SandboxPolicy policy)
    {
        var c = new Context(network, identity, policy);
        var name = identity.Name;
        var outRules = new List<NftRule>();
        var hostRules = new List<NftRule>();
        for (var i = 0; i < policy.Outbound.Length; i++)
        {
            var rule = policy.Outbound[i];
            var services = Context.Services(rule).ToList();
            foreach (var match in c.PeerMatches(rule, i))
            {
                foreach (var service in services)
                {
                    // Allowed by the sender: back to from_sandbox, which hands the packet to the receiver's chain.
                    c.Allow(outRules, rule, service, match, "return");
                }
            }

            // After the DNS redirect every DNS packet arrives at the host: a rule that admits port 53 admits DNS.
            foreach (var l4 in new[] { Protocol.Udp, Protocol.Tcp })
            {
                if (rule.MatchesService(l4, 53))
                {
                    c.Allow(hostRules, rule, $"{l4.ToString().ToLowerInvariant()} dport 53", "", "accept");
                }
            }

            if (rule.Targets.Contains(Target.Host))
            {
                foreach (var service in services)
                {
                    c.Allow(hostRules, rule, service, "", "accept");
                }
            }
        }

        var inRules = new List<NftRule>();
        var hostInRules = new List<NftRule>();
        for (var i = 0; i < policy.Inbound.Length; i++)
        {
            var rule = policy.Inbound[i];
            var services = Context.Services(rule).ToList();
            foreach (var match in c.PeerMatches(rule, i))
            {
                foreach (var service in services)
                {
                    c.Allow(inRules, rule, service, match, "accept");
                }
            }

            if (rule.Targets.Contains(Target.Host))
            {
                foreach (var service in services)
                {
                    c.Allow(hostInRules, rule, service, "", "accept");
                }
            }
        }

        c.Deny(outRules, "out");
        c.Deny(hostRules, "out");
        c.Deny(inRules, "in");

        var chains = ImmutableArray.CreateBuilder<NftChain>();
        chains.Add(new NftChain(OutChain(name), [.. outRules]));
        chains.Add(new NftChain(InChain(name), [.. inRules]));
        chains.Add(new NftChain(HostChain(name), [.. hostRules]));
        var ifname = $"\"{identity.Interface}\"";
        var elements = ImmutableArray.CreateBuilder<NftElement>();
        elements.Add(new NftElement("inet", Known, ifname));
        elements.Add(new NftElement("inet", OutDispatch, $"{ifname} : jump {OutChain(name)}"));
        elements.Add(new NftElement("inet", InDispatch, $"{ifname} : goto {InChain(name)}"));
        elements.Add(new NftElement("inet", HostDispatch, $"{ifname} : goto {HostChain(name)}"));
        if (hostInRules.Count > 0)
        {
            c.Deny(hostInRules, "in");
            chains.Add(new NftChain(HostInChain(name), [.. hostInRules]));
            elements.Add(new NftElement("inet", HostInDispatch, $"{ifname} : goto {HostInChain(name)}"));
        }

        elements.Add(new NftElement("inet", Source4, $"{ifname} . {identity.Mac} . {identity.Ipv4}"));
        if (network.DualStack)
        {
            elements.Add(new NftElement("inet", Mac, $"{ifname} . {identity.Mac}"));
        }

        if (network.DualStack && identity.Ipv6 is { } v6)
        {
            elements.Add(new NftElement("inet", Addr6, $"{ifname} . {v6}"));
            var hex = Convert.ToHexStringLower(v6.GetAddressBytes());
            elements.Add(new NftElement("inet", NdTarget6, $"{ifname} . 0x{hex}"));
        }

        if (identity.Dhcp)
        {
            elements.Add(new NftElement("inet", DhcpClients, $"{ifname} . {identity.Mac}"));
            elements.Add(new NftElement("inet", DhcpLinks, ifname));
        }

        elements.Add(new NftElement("arp", ArpOk, $"{ifname} . {identity.Ipv4} . {identity.Mac}"));
        return new SandboxPlan(identity, policy, c.Sets.ToImmutable(), chains.ToImmutable(), elements.ToImmutable());
    }

    /// <summary>The set that holds the addresses learnt for outbound rule <paramref name="ruleIndex"/> (its domains).</summary>
    public static string DomainSetName(string sandbox, int ruleIndex, ImmutableArray<DomainPattern> domains, bool ipv6) =>
        Of(sandbox, $"{RuleKey(Direction.Outbound, ruleIndex)}_dom{(ipv6 ? 6 : 4)}_{DomainTag(domains)}");

    private static string DomainTag(ImmutableArray<DomainPattern> domains)
    {
        var text = string.Join(',', domains.Select(d => d.ToString()).Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];
    }
}
