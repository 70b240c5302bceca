using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;
using CsCheck;

namespace ArcBox.Policy.Tests.Evaluation;

/// <summary>Laws of the policy semantics, checked on random policies and flows.</summary>
public class EvaluatorPropertyTests
{
    private static readonly SandboxAddresses Self = new(IPAddress.Parse("10.0.0.2"), IPAddress.Parse("fd00::2"));

    private static readonly NetworkView View = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00::/64"))
        .WithSandbox("self", Self)
        .WithSandbox("alpha", new SandboxAddresses(IPAddress.Parse("10.0.0.3"), IPAddress.Parse("fd00::3")))
        .WithSandbox("beta", new SandboxAddresses(IPAddress.Parse("10.0.0.4"), IPAddress.Parse("fd00::4"))) with
    {
        HostAddresses = [IPAddress.Parse("198.51.100.1")],
    };

    private static readonly string[] Peers =
    [
        "10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.77", "198.51.100.1", "203.0.113.7", "198.51.100.7", "192.0.2.1",
        "192.168.4.4", "172.16.5.4", "169.254.169.254", "100.64.1.1", "8.8.8.8", "fd00::1", "fd00::3", "2001:db8::7", "2001:db8:1::7", "fe80::1",
    ];

    private static readonly Gen<SandboxPolicy> Policies = PolicyGenerator.Yaml(ipv6: true).Select(y =>
        PolicyParser.Parse(y, "gen.yaml").Policy ?? throw new InvalidOperationException("generator produced an invalid policy:\n" + y));

    private static readonly Gen<Flow> Flows = Gen.Select(
        Gen.OneOfConst(Direction.Outbound, Direction.Inbound),
        Gen.OneOfConst(Protocol.Tcp, Protocol.Udp, Protocol.Icmp),
        Gen.OneOfConst(Peers),
        Gen.OneOfConst(22, 53, 80, 443, 1500, 5432, 8080, 65535),
        Gen.OneOfConst<string?>(null, "pypi.org", "a.example.com", "other.org"),
        (d, p, peer, port, domain) => new Flow(d, p, IPAddress.Parse(peer), p == Protocol.Icmp ? 0 : port, d == Direction.Outbound ? domain : null));

    private static Decision Eval(SandboxPolicy p, Flow f) => PolicyEvaluator.Evaluate(p, Self, View, f);

    [Fact]
    public void Generated_policies_always_validate() =>
        PolicyGenerator.Yaml(ipv6: true).Sample(y => PolicyParser.Parse(y, "gen.yaml").Success, iter: 500);

    [Fact]
    public void Offline_denies_everything() =>
        Flows.Sample(f => !Eval(BuiltinPolicies.Offline, f).Allowed, iter: 500);

    [Fact]
    public void The_deciding_rule_allows_the_flow_on_its_own_and_no_earlier_rule_does() =>
        Gen.Select(Policies, Flows).Sample((p, f) =>
        {
            var d = Eval(p, f);
            var rules = p.Rules(f.Direction).ToList();
            if (!d.Allowed)
            {
                // Denied: no single rule allows it.
                return rules.All(r => !Eval(Only(p, r), f).Allowed);
            }

            var index = rules.FindIndex(r => r.Id == d.RuleId);
            if (index < 0)
            {
                // Only DNS may be decided by an outbound rule for an inbound-looking flow: never here.
                return f.Direction == Direction.Outbound && p.DnsRule(f.Protocol)?.Id == d.RuleId;
            }

            return Eval(Only(p, rules[index]), f).Allowed && rules.Take(index).All(r => !Eval(Only(p, r), f).Allowed);
        }, iter: 2000);

    [Fact]
    public void Adding_a_rule_never_takes_an_allow_away() =>
        Gen.Select(Policies, Policies, Flows).Sample((p, q, f) =>
        {
            var before = Eval(p, f);
            var merged = p with { Outbound = [.. p.Outbound, .. q.Outbound], Inbound = [.. p.Inbound, .. q.Inbound] };
            var after = Eval(merged, f);
            return !before.Allowed || (after.Allowed && after.RuleId == before.RuleId);
        }, iter: 2000);

    [Fact]
    public void The_host_is_reached_only_through_host_rules_or_dns() =>
        Gen.Select(Policies, Flows).Sample((p, f) =>
        {
            var flow = f with { Peer = IPAddress.Parse("198.51.100.1") };
            var d = Eval(p, flow);
            var isDns = flow.Direction == Direction.Outbound && flow.Protocol != Protocol.Icmp && flow.Port == 53;
            var rule = p.Rules(flow.Direction).FirstOrDefault(r => r.Id == d.RuleId);
            return !d.Allowed || isDns || rule!.Targets.Contains(Target.Host);
        }, iter: 2000);

    [Fact]
    public void Metadata_address_needs_a_cidr_that_names_it() =>
        Gen.Select(Policies, Flows).Sample((p, f) =>
        {
            var flow = f with { Direction = Direction.Outbound, Peer = IPAddress.Parse("169.254.169.254"), Port = f.Protocol == Protocol.Icmp ? 0 : 80 };
            var d = Eval(p, flow);
            var rule = p.Outbound.FirstOrDefault(r => r.Id == d.RuleId);
            // Named by a CIDR inside link-local (169.254.0.0/16): a covering one such as 0.0.0.0/0 does not reach it.
            return !d.Allowed || rule!.Targets.OfType<CidrTarget>().Any(c => ArcBox.Policy.Parsing.Addresses.Contains(c.Cidr, flow.Peer) && c.Cidr.PrefixLength >= 16);
        }, iter: 2000);

    [Fact]
    public void Ipv6_is_always_denied_on_an_ipv4_only_network() =>
        Gen.Select(Policies, Flows).Sample((p, f) =>
        {
            var v4Only = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), null);
            var flow = f with { Peer = IPAddress.Parse("2001:db8::7") };
            return !PolicyEvaluator.Evaluate(p, new SandboxAddresses(Self.Ipv4), v4Only, flow).Allowed;
        }, iter: 1000);

    private static SandboxPolicy Only(SandboxPolicy p, Rule rule) =>
        p with { Outbound = rule.Direction == Direction.Outbound ? [rule] : [], Inbound = rule.Direction == Direction.Inbound ? [rule] : [] };
}
