using System.Net;
using ArcBox.Netfilter.Logging;

namespace ArcBox.Netfilter.Tests.Logging;

public sealed class FlowEventTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private static string? Sandbox(string ifname) => ifname == "ab-web" ? "web" : null;

    private static byte[] Ipv4(byte protocol, string source, string destination, params byte[] l4)
    {
        var p = new byte[20 + l4.Length];
        p[0] = 0x45;
        p[9] = protocol;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(p, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(p, 16);
        l4.CopyTo(p, 20);
        return p;
    }

    [Fact]
    public void A_denied_tcp_connect_names_sandbox_direction_ports_and_the_default_rule()
    {
        var e = FlowEvent.Parse("ab-web out default ", Now, Ipv4(6, "10.0.0.2", "203.0.113.22", 0x9c, 0x40, 0x00, 0x16), Sandbox);

        Assert.Equal(new FlowEvent(Now, "web", "out", "tcp", "10.0.0.2", 40000, "203.0.113.22", 22, "drop", "default"), e);
    }

    [Fact]
    public void An_allowed_flow_of_a_log_all_policy_names_its_rule()
    {
        var e = FlowEvent.Parse("ab-web in inbound[1] ", Now, Ipv4(17, "10.0.0.3", "10.0.0.2", 0x13, 0x88, 0x1f, 0x90), Sandbox);

        Assert.Equal(("allow", "inbound[1]", "udp", 5000, 8080), (e!.Verdict, e.RuleId, e.Protocol, e.SourcePort, e.DestinationPort));
    }

    [Fact]
    public void Icmp_and_ipv6_are_read()
    {
        Assert.Equal("icmp type 8", FlowEvent.Parse("ab-web out default ", Now, Ipv4(1, "10.0.0.2", "192.0.2.1", 8, 0, 0, 0), Sandbox)!.Protocol);

        var v6 = new byte[44];
        v6[0] = 0x60;
        v6[6] = 6;
        IPAddress.Parse("fd00:ab::2").GetAddressBytes().CopyTo(v6, 8);
        IPAddress.Parse("2001:db8::1").GetAddressBytes().CopyTo(v6, 24);
        v6[42] = 0x01;
        v6[43] = 0xbb;
        var e = FlowEvent.Parse("ab-web out default ", Now, v6, Sandbox)!;
        Assert.Equal(("tcp", "fd00:ab::2", "2001:db8::1", 443), (e.Protocol, e.Source, e.Destination, e.DestinationPort));
    }

    [Theory]
    [InlineData("ab-web out default ", 10)]
    [InlineData("ab-db out default ", 40)]
    [InlineData("something else entirely", 40)]
    [InlineData("ab-web sideways default ", 40)]
    [InlineData("", 40)]
    public void Foreign_prefixes_unknown_interfaces_and_truncated_packets_are_ignored(string prefix, int length)
    {
        var packet = Ipv4(6, "10.0.0.2", "203.0.113.22", 0x9c, 0x40, 0x00, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        Assert.Null(FlowEvent.Parse(prefix, Now, packet.AsSpan(0, length), Sandbox));
    }

    [Fact]
    public void Ports_are_not_read_from_later_fragments_or_short_packets()
    {
        var fragment = Ipv4(17, "10.0.0.2", "203.0.113.22", 0x13, 0x88, 0x1f, 0x90);
        fragment[7] = 0x10;
        Assert.Null(FlowEvent.Parse("ab-web out default ", Now, fragment, Sandbox)!.DestinationPort);
        Assert.Null(FlowEvent.Parse("ab-web out default ", Now, Ipv4(6, "10.0.0.2", "203.0.113.22", 0x9c), Sandbox)!.SourcePort);
    }
}
