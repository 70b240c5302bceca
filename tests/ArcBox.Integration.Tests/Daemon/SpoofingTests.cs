using System.Text.RegularExpressions;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Crafted packets from inside a sandbox (scapy): every forgery is dropped in the host kernel.</summary>
public class SpoofingTests
{
    private static string? WhyNot => Needs.Root ?? (File.Exists("/usr/bin/python3") && ProcessRunner.Run("/usr/bin/python3", ["-c", "import scapy"]).ExitCode == 0 ? null : "needs Debian's python3-scapy (./run-tests installs it)");

    [Fact]
    public void Forged_ipv4_sources_macs_arp_and_dhcp_replies_are_dropped()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("spoof");
        net.Create("web", builtin: "default");
        var victim = net.Create("db", builtin: "default");
        var ns = net.NamespaceOf("web");

        // Watch the internet side: nothing with a forged source may arrive there.
        net.Internet.Nft("table inet watch {\n chain pre {\n type filter hook prerouting priority -400; policy accept;\n udp dport 9 counter\n }\n}\n").EnsureSuccess("watch table");

        var cases = new[]
        {
            new[] { "ip-source", "eth0", "10.0.0.3", TestNetwork.WebServer },
            ["ip-source", "eth0", "203.0.113.99", TestNetwork.WebServer],
            ["mac-source", "eth0", "02:de:ad:be:ef:01", TestNetwork.WebServer],
            ["dhcp-offer", "eth0"],
        };
        foreach (var c in cases)
        {
            var before = net.Counter("spoofed");
            net.Python(ns, "spoof.py", c).EnsureSuccess(string.Join(' ', c));
            Assert.True(net.Counter("spoofed") - before >= 5, $"{string.Join(' ', c)}: not counted as spoofed");
        }

        Assert.Matches(new Regex(@"udp dport 9 counter packets 0 "), net.Internet.Exec("nft", "list", "table", "inet", "watch").Stdout);

        // ARP: a claim on the neighbour's address and a forged MAC for our own are dropped before the host learns them.
        var arpBefore = net.ArpDrops();
        net.Python(ns, "spoof.py", "arp-claim", "eth0", "10.0.0.3").EnsureSuccess("arp claim");
        net.Python(ns, "spoof.py", "arp-forged-mac", "eth0", "10.0.0.2", "02:de:ad:be:ef:02").EnsureSuccess("arp forged mac");
        Assert.True(net.ArpDrops() - arpBefore >= 10, "forged ARP not dropped");
        var neighbours = net.Host.Exec("ip", "neigh", "show").Stdout;
        Assert.DoesNotContain("02:de:ad:be:ef", neighbours, StringComparison.Ordinal);

        // Legitimate traffic still flows.
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        Assert.True(net.Reaches(ns, $"tcp:{TestNetwork.WebServer}:80"));
        Assert.Equal("10.0.0.3", victim.GetProperty("ipv4").GetString());
    }

    [Fact]
    public void Ipv6_from_a_sandbox_is_dropped_on_an_ipv4_only_network()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("v6off");
        net.Create("web", "network:\n  outbound:\n    - to: \"::/0\"\n    - to: internet\n");
        var before = net.Counter("spoofed");
        // The sandbox's own IPv6 is disabled; forge a packet anyway, as an attacker with raw sockets would.
        net.Python(net.NamespaceOf("web"), "spoof.py", "ipv6-source", "eth0", "fe80::1", "2001:db8:cafe::10").EnsureSuccess("v6");
        net.Python(net.NamespaceOf("web"), "spoof.py", "ra", "eth0").EnsureSuccess("ra");
        Assert.True(net.Counter("spoofed") - before >= 10);
    }

    [Fact]
    public void Dual_stack_drops_router_advertisements_neighbour_spoofing_and_forged_ipv6_sources()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("v6spoof", dualStack: true);
        var web = net.Create("web", builtin: "default");
        var db = net.Create("db", builtin: "default");
        var ns = net.NamespaceOf("web");
        foreach (var c in new[]
        {
            new[] { "ra", "eth0" },
            ["na-claim", "eth0", db.GetProperty("ipv6").GetString()!],
            ["ipv6-source", "eth0", db.GetProperty("ipv6").GetString()!, TestNetwork.WebServer6],
            ["ipv6-source", "eth0", "2001:db8::bad", TestNetwork.WebServer6],
        })
        {
            var before = net.Counter("spoofed");
            net.Python(ns, "spoof.py", c).EnsureSuccess(string.Join(' ', c));
            Assert.True(net.Counter("spoofed") - before >= 5, $"{string.Join(' ', c)}: not dropped");
        }

        Assert.DoesNotContain(db.GetProperty("ipv6").GetString()!, net.Host.Exec("ip", "-6", "neigh", "show", "dev", $"{net.Prefix}-web").Stdout, StringComparison.Ordinal);
        Assert.NotNull(web.GetProperty("ipv6").GetString());
    }
}
