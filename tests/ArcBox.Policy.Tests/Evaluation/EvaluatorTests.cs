using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;

namespace ArcBox.Policy.Tests.Evaluation;

public class EvaluatorTests
{
    private static readonly SandboxAddresses Web = new(IPAddress.Parse("10.0.0.2"), IPAddress.Parse("fd00::2"));
    private static readonly SandboxAddresses Db = new(IPAddress.Parse("10.0.0.3"), IPAddress.Parse("fd00::3"));

    private static readonly NetworkView View = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00::/64"))
        .WithSandbox("web", Web).WithSandbox("db", Db) with { HostAddresses = [IPAddress.Parse("198.51.100.1")] };

    private static readonly string SeedPath = Path.Combine(RepoPaths.Examples, "seed.yaml");

    private static SandboxPolicy Seed { get; } = PolicyParser.Parse(File.ReadAllText(SeedPath), SeedPath).Policy!;

    private static Decision Out(SandboxPolicy p, string to, int port, Protocol protocol = Protocol.Tcp, string? domain = null, NetworkView? view = null) =>
        PolicyEvaluator.Evaluate(p, Web, view ?? View, new Flow(Direction.Outbound, protocol, IPAddress.Parse(to), port, domain));

    private static Decision In(SandboxPolicy p, string from, int port, Protocol protocol = Protocol.Tcp) =>
        PolicyEvaluator.Evaluate(p, Web, View, new Flow(Direction.Inbound, protocol, IPAddress.Parse(from), port));

    private static SandboxPolicy Parse(string yaml) => PolicyParser.Parse(yaml, "t.yaml").Policy ?? throw new InvalidOperationException(string.Join("\n", PolicyParser.Parse(yaml, "t.yaml").Diagnostics));

    [Theory]
    [InlineData("203.0.113.7", 443, Protocol.Tcp, true, "outbound[0]")]
    [InlineData("203.0.113.7", 80, Protocol.Tcp, true, "outbound[0]")]
    [InlineData("203.0.113.7", 22, Protocol.Tcp, false, null)]
    [InlineData("203.0.113.7", 443, Protocol.Udp, false, null)]
    [InlineData("192.168.1.1", 443, Protocol.Tcp, false, null)]
    [InlineData("10.0.0.3", 443, Protocol.Tcp, false, null)]
    [InlineData("169.254.169.254", 80, Protocol.Tcp, false, null)]
    [InlineData("198.51.100.1", 80, Protocol.Tcp, false, null)]
    [InlineData("10.0.0.1", 80, Protocol.Tcp, false, null)]
    [InlineData("127.0.0.1", 80, Protocol.Tcp, false, null)]
    [InlineData("224.0.0.1", 80, Protocol.Tcp, false, null)]
    [InlineData("203.0.113.7", 0, Protocol.Icmp, false, null)]
    public void Seed_outbound(string to, int port, Protocol protocol, bool allowed, string? rule)
    {
        var d = Out(Seed, to, port, protocol);
        Assert.Equal(allowed, d.Allowed);
        Assert.Equal(rule, d.RuleId);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("10.0.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("10.0.0.3")]
    public void Dns_is_allowed_by_port_whatever_the_destination(string to)
    {
        Assert.Equal("outbound[1]", Out(Seed, to, 53, Protocol.Udp).RuleId);
        Assert.False(Out(Seed, to, 53, Protocol.Tcp).Allowed);
    }

    [Fact]
    public void Offline_denies_dns_too() =>
        Assert.False(Out(BuiltinPolicies.Offline, "10.0.0.1", 53, Protocol.Udp).Allowed);

    [Theory]
    [InlineData("10.0.0.3", 8080, true)]
    [InlineData("10.0.0.3", 8081, false)]
    [InlineData("203.0.113.7", 8080, false)]
    [InlineData("10.0.0.1", 8080, false)]
    public void Seed_inbound(string from, int port, bool allowed) =>
        Assert.Equal(allowed, In(Seed, from, port).Allowed);

    [Fact]
    public void Host_is_reachable_only_by_the_host_target()
    {
        var cidr = Parse("network:\n  outbound:\n    - to: 0.0.0.0/0\n");
        Assert.False(Out(cidr, "10.0.0.1", 22).Allowed);
        Assert.False(Out(cidr, "198.51.100.1", 22).Allowed);
        Assert.True(Out(cidr, "192.168.1.1", 22).Allowed);
        var host = Parse("network:\n  outbound:\n    - to: host\n      protocol: tcp\n      port: 22\n");
        Assert.Equal("outbound[0]", Out(host, "198.51.100.1", 22).RuleId);
        Assert.Equal("outbound[0]", Out(host, "10.0.0.1", 22).RuleId);
        Assert.False(Out(host, "203.0.113.7", 22).Allowed);
    }

    [Fact]
    public void Sandbox_target_names_one_sandbox_and_network_names_all()
    {
        var p = Parse("network:\n  outbound:\n    - to: sandbox:db\n      protocol: tcp\n      port: 5432\n    - to: network\n      protocol: icmp\n");
        Assert.Equal("outbound[0]", Out(p, "10.0.0.3", 5432).RuleId);
        Assert.False(Out(p, "10.0.0.9", 5432).Allowed);
        Assert.Equal("outbound[1]", Out(p, "10.0.0.9", 0, Protocol.Icmp).RuleId);
        Assert.Equal("outbound[1]", Out(p, "fd00::3", 0, Protocol.Icmp).RuleId);
        Assert.False(Out(p, "10.0.0.1", 0, Protocol.Icmp).Allowed);
    }

    [Fact]
    public void Both_sides_must_allow_between_sandboxes()
    {
        var sender = Parse("network:\n  outbound:\n    - to: sandbox:db\n      protocol: tcp\n      port: 5432\n");
        var receiver = Parse("network:\n  inbound:\n    - from: sandbox:web\n      protocol: tcp\n      port: 5432\n");
        var (o, i) = PolicyEvaluator.EvaluateBetween(sender, "web", receiver, "db", View, Protocol.Tcp, 5432);
        Assert.True(o.Allowed && i.Allowed);
        (o, i) = PolicyEvaluator.EvaluateBetween(sender, "web", BuiltinPolicies.Default, "db", View, Protocol.Tcp, 5432);
        Assert.True(o.Allowed);
        Assert.False(i.Allowed);
        (o, _) = PolicyEvaluator.EvaluateBetween(BuiltinPolicies.Default, "web", receiver, "db", View, Protocol.Tcp, 5432);
        Assert.False(o.Allowed);
    }

    [Fact]
    public void Domain_rules_admit_only_public_addresses_resolved_from_allowed_names()
    {
        var p = Parse("network:\n  outbound:\n    - protocol: tcp\n      port: 443\n      domains: [\"*.example.com\"]\n");
        Assert.Equal("outbound[0]", Out(p, "203.0.113.9", 443, domain: "a.example.com").RuleId);
        Assert.False(Out(p, "203.0.113.9", 443, domain: "example.com").Allowed);
        Assert.False(Out(p, "203.0.113.9", 443).Allowed);
        Assert.False(Out(p, "192.168.1.9", 443, domain: "a.example.com").Allowed);
        Assert.False(Out(p, "203.0.113.9", 80, domain: "a.example.com").Allowed);
    }

    [Fact]
    public void Ipv6_is_denied_on_an_ipv4_only_network()
    {
        var p = Parse("network:\n  outbound:\n    - to: \"::/0\"\n");
        var v4only = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), null);
        Assert.False(Out(p, "2001:db8::1", 443, view: v4only).Allowed);
        Assert.True(Out(p, "2001:db8::1", 443).Allowed);
    }

    [Fact]
    public void Internet_excludes_private_and_ula_ranges_in_ipv6()
    {
        Assert.True(Out(Seed, "2001:db8::1", 443).Allowed);
        Assert.False(Out(Seed, "fd12::1", 443).Allowed);
        Assert.False(Out(Seed, "fe80::1", 443).Allowed);
        Assert.False(Out(Seed, "::ffff:10.0.0.1", 443).Allowed);
    }

    [Fact]
    public void First_matching_rule_names_the_decision()
    {
        var p = Parse("network:\n  outbound:\n    - protocol: tcp\n      port: 8080\n    - protocol: any\n");
        Assert.Equal("outbound[0]", Out(p, "203.0.113.7", 8080).RuleId);
        Assert.Equal("outbound[1]", Out(p, "203.0.113.7", 8081).RuleId);
        Assert.Equal("outbound[1]", Out(p, "203.0.113.7", 0, Protocol.Icmp).RuleId);
    }

    [Fact]
    public void Any_with_ports_means_tcp_and_udp_not_icmp()
    {
        var p = Parse("network:\n  outbound:\n    - port: 443\n");
        Assert.True(Out(p, "203.0.113.7", 443, Protocol.Udp).Allowed);
        Assert.False(Out(p, "203.0.113.7", 0, Protocol.Icmp).Allowed);
    }
}
