using System.Net;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;

namespace ArcBox.Policy.Tests.Parsing;

public class PolicyParserTests
{
    private static SandboxPolicy Valid(string yaml)
    {
        var result = PolicyParser.Parse(yaml, "test.yaml");
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return result.Policy;
    }

    private static string[] Errors(string yaml) =>
        [.. PolicyParser.Parse(yaml, "t.yaml").Errors.Select(d => d.ToString())];

    [Fact]
    public void Seed_policy_validates_with_the_expected_rules()
    {
        var path = Path.Combine(RepoPaths.Examples, "seed.yaml");
        var result = PolicyParser.Parse(File.ReadAllText(path), path);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var p = result.Policy;
        Assert.Equal(["outbound[0]", "outbound[1]"], p.Outbound.Select(r => r.Id));
        Assert.Equal(Protocol.Tcp, p.Outbound[0].Protocol);
        Assert.Equal([new PortRange(80, 80), new PortRange(443, 443)], p.Outbound[0].Ports.ToArray());
        Assert.Equal([Target.Internet], p.Outbound[0].Targets.ToArray());
        Assert.Equal(Protocol.Udp, p.Outbound[1].Protocol);
        Assert.Equal([new PortRange(53, 53)], p.Outbound[1].Ports.ToArray());
        var inbound = Assert.Single(p.Inbound);
        Assert.Equal("inbound[0]", inbound.Id);
        Assert.Equal(Protocol.Any, inbound.Protocol);
        Assert.Equal([new CidrTarget(IPNetwork.Parse("10.0.0.0/24"))], inbound.Targets.ToArray());
        Assert.Equal(LogMode.Denied, p.Log);
        Assert.Equal(new SourceLocation(Path.Combine(RepoPaths.Examples, "seed.yaml"), 3, 7), p.Outbound[0].Location);
    }

    [Fact]
    public void Builtins_are_the_seed_without_inbound_and_nothing()
    {
        Assert.Equal(2, BuiltinPolicies.Default.Outbound.Length);
        Assert.Empty(BuiltinPolicies.Default.Inbound);
        Assert.Empty(BuiltinPolicies.Offline.Outbound);
        Assert.Empty(BuiltinPolicies.Offline.Inbound);
    }

    [Fact]
    public void Ranges_targets_and_domains_are_read()
    {
        var p = Valid("""
            network:
              outbound:
                - protocol: udp
                  ports: ["1000-2000", 53]
                  to: [sandbox:db, host, network, 2001:db8::/32, 198.51.100.7]
                - protocol: tcp
                  port: 443
                  domains: ["*.Example.COM.", pypi.org]
            """);
        Assert.Equal([new PortRange(1000, 2000), new PortRange(53, 53)], p.Outbound[0].Ports.ToArray());
        Assert.Equal("sandbox:db,host,network,2001:db8::/32,198.51.100.7", string.Join(',', p.Outbound[0].Targets));
        Assert.Empty(p.Outbound[1].Targets);
        Assert.Equal(["*.example.com", "pypi.org"], p.Outbound[1].Domains.Select(d => d.ToString()));
    }

    [Fact]
    public void Inbound_without_from_means_internet()
    {
        var p = Valid("network:\n  inbound:\n    - port: 22\n");
        Assert.Equal([Target.Internet], p.Inbound[0].Targets.ToArray());
    }

    [Fact]
    public void Network_may_be_empty_and_then_allows_nothing()
    {
        var p = Valid("network:\n");
        Assert.Empty(p.Outbound);
        Assert.Empty(p.Inbound);
    }

    [Fact]
    public void Unknown_key_names_the_closest_valid_key()
    {
        var errors = Errors("network:\n  outbound:\n    - protocol: tcp\n      prots: [80]\n");
        Assert.Equal(["t.yaml:4:7: error: unknown key 'prots' in rule outbound[0]; did you mean 'ports'?"], errors);
    }

    [Fact]
    public void Every_error_is_reported_not_only_the_first()
    {
        var errors = Errors("network:\n  outbound:\n    - port: 0\n    - port: 70000\n  log: loud\n");
        Assert.Equal(3, errors.Length);
    }

    [Fact]
    public void Alias_expansion_is_bounded()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nnetwork: {}\n";
        var result = PolicyParser.Parse(yaml, "bomb.yaml");
        Assert.False(result.Success);
        Assert.Contains("YAML nodes", Assert.Single(result.Diagnostics).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_policy_is_refused()
    {
        var result = PolicyParser.Parse("network:\n" + new string('#', PolicyParser.MaxFileBytes + 1), "big.yaml");
        Assert.False(result.Success);
    }

    [Theory]
    [InlineData("web", true)]
    [InlineData("a", true)]
    [InlineData("db-replica-2", true)]
    [InlineData("Web", false)]
    [InlineData("9lives", false)]
    [InlineData("trailing-", false)]
    [InlineData("under_score", false)]
    [InlineData("", false)]
    public void Sandbox_names_are_dns_labels(string name, bool valid) =>
        Assert.Equal(valid, SandboxNames.IsValid(name));

    [Fact]
    public void Sandbox_names_longer_than_a_dns_label_are_refused() =>
        Assert.False(SandboxNames.IsValid(new string('a', 64)));

    [Theory]
    [InlineData("prots", "ports")]
    [InlineData("protocl", "protocol")]
    [InlineData("outbund", "outbound")]
    [InlineData("zzzzzz", null)]
    public void Suggestions_catch_typos_only(string word, string? expected) =>
        Assert.Equal(expected, KeySuggestion.Closest(word, ["protocol", "port", "ports", "to", "outbound", "inbound"]));

    [Theory]
    [InlineData("500kbit", 500_000)]
    [InlineData("10mbit", 10_000_000)]
    [InlineData("1gbit", 1_000_000_000)]
    [InlineData("1.5mbit", 1_500_000)]
    [InlineData("1mbps", 8_000_000)]
    public void Rates_parse_in_tc_units(string text, long bits)
    {
        Assert.True(Rate.TryParse(text, out var rate, out var error), error);
        Assert.Equal(bits, rate.BitsPerSecond);
    }

    [Fact]
    public void Dns_settings_are_read()
    {
        var p = Valid("""
            network:
              dns:
                records:
                  db.internal: 10.0.0.5
                  "*.svc.internal": [10.0.0.6, "fd00::6"]
                  alias.internal: { cname: db.internal }
                  info.internal: { txt: "hello" }
                resolve: [pypi.org]
                upstream: [9.9.9.9, "[2620:fe::fe]:5353"]
            """);
        Assert.Equal(4, p.Dns.Records.Length);
        Assert.True(p.Dns.Records[1].Name.IsWildcard);
        Assert.Equal("db.internal", p.Dns.Records[2].Cname);
        Assert.Equal("hello", p.Dns.Records[3].Txt);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2620:fe::fe"), 5353), p.Dns.Upstream[1]);
    }
}
