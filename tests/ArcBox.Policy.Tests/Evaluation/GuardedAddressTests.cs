using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;

namespace ArcBox.Policy.Tests.Evaluation;

/// <summary>
/// Link-local and metadata addresses behave as the host does: a CIDR that only covers them does not reach them
/// (`to: 0.0.0.0/0` is what many write for "anywhere"; it must not open 169.254.169.254), one inside them does.
/// </summary>
public class GuardedAddressTests
{
    private static readonly SandboxAddresses Web = new(IPAddress.Parse("10.0.0.2"), IPAddress.Parse("fd00::2"));

    private static readonly NetworkView View = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00::/64")).WithSandbox("web", Web);

    private static bool Allowed(string yaml, string to, int port = 80) =>
        PolicyEvaluator.Evaluate(PolicyParser.Parse(yaml, "t.yaml").Policy!, Web, View, new Flow(Direction.Outbound, Protocol.Tcp, IPAddress.Parse(to), port)).Allowed;

    [Theory]
    [InlineData("0.0.0.0/0", "169.254.169.254", false)]
    [InlineData("0.0.0.0/0", "169.254.1.1", false)]
    [InlineData("128.0.0.0/1", "169.254.169.254", false)]
    [InlineData("0.0.0.0/0", "10.9.9.9", true)]
    [InlineData("0.0.0.0/0", "203.0.113.7", true)]
    [InlineData("169.254.0.0/16", "169.254.169.254", true)]
    [InlineData("169.254.169.254", "169.254.169.254", true)]
    [InlineData("169.254.169.0/24", "169.254.169.254", true)]
    [InlineData("169.254.169.254", "169.254.169.253", false)]
    [InlineData("::/0", "fd00:ec2::254", false)]
    [InlineData("::/0", "fe80::1", false)]
    [InlineData("fc00::/7", "fd00:ec2::254", false)]
    [InlineData("fd00:ec2::254", "fd00:ec2::254", true)]
    [InlineData("fe80::/10", "fe80::1", true)]
    [InlineData("::/0", "2001:db8::1", true)]
    public void A_cidr_reaches_guarded_addresses_only_from_inside_their_range(string cidr, string to, bool allowed) =>
        Assert.Equal(allowed, Allowed($"network:\n  outbound:\n    - to: [\"{cidr}\"]\n      ports: [80]\n", to));

    [Fact]
    public void A_rule_that_names_metadata_beside_a_covering_cidr_reaches_it()
    {
        var yaml = "network:\n  outbound:\n    - to: [0.0.0.0/0, 169.254.169.254]\n      ports: [80]\n";
        Assert.True(Allowed(yaml, "169.254.169.254"));
        Assert.False(Allowed(yaml, "169.254.0.1"));
    }

    [Fact]
    public void Validate_warns_where_a_cidr_covers_private_or_guarded_ranges()
    {
        var result = PolicyParser.Parse("network:\n  outbound:\n    - to: [203.0.113.0/24, 0.0.0.0/0]\n      ports: [443]\n", "p.yaml");
        Assert.True(result.Success);
        var warning = Assert.Single(result.Diagnostics);
        Assert.False(warning.IsError);
        Assert.Equal("p.yaml:3:28: warning: '0.0.0.0/0' covers 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16: this rule reaches them, except link-local and metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), which only a CIDR inside them reaches", warning.ToString());
        Assert.Empty(PolicyParser.Parse("network:\n  outbound:\n    - to: [169.254.169.254, 10.1.0.0/16]\n", "p.yaml").Diagnostics);
    }
}
