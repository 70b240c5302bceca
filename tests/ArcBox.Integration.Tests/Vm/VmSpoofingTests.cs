using System.Text.RegularExpressions;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Vm;

/// <summary>Forgeries from inside a real guest (its own kernel, raw sockets, a changed MAC) die in the host kernel.</summary>
public class VmSpoofingTests
{
    private const string Web = TestNetwork.WebServer;

    private static string? WhyNot => VmGuest.WhyNot;

    [Fact]
    public void Spoofed_sources_macs_and_forged_arp_from_a_guest_are_dropped()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmspoof");
        var peer = net.Create("peer", builtin: "default").GetProperty("ipv4").GetString();
        var vm = net.Create("vm", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n    - protocol: icmp\n", attach: "tap");
        var tap = vm.GetProperty("hostInterface").GetString()!;
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        net.Internet.Nft("table inet watch {\n chain pre {\n type filter hook prerouting priority -400; policy accept;\n icmp type echo-request counter\n }\n}\n").EnsureSuccess("watch table");
        var spoofedBefore = net.Counter("spoofed");
        var arpBefore = net.ArpDrops();

        var guest = VmGuest.Start(net, "vm", $"""
            tcp before {Web} 80
            ip addr add 10.0.0.99/32 dev eth0
            ping -c 3 -W 1 -I 10.0.0.99 {Web} >/dev/null 2>&1; result spoof-foreign $?
            ip addr add {peer}/32 dev eth0
            ping -c 3 -W 1 -I {peer} {Web} >/dev/null 2>&1; result spoof-neighbour $?
            arping -U -c 3 -I eth0 -s {peer} 10.0.0.1 >/dev/null 2>&1
            arping -c 3 -w 3 -I eth0 -s 10.0.0.99 10.0.0.1 >/dev/null 2>&1; result arp-forged-sender $?
            mac="$(cat /sys/class/net/eth0/address)"
            ip link set eth0 address 02:de:ad:be:ef:01
            tcp spoof-mac {Web} 80
            ip link set eth0 address "$mac"
            ip addr del 10.0.0.99/32 dev eth0
            ip addr del {peer}/32 dev eth0
            tcp after {Web} 80
            """);
        guest.AssertProbes(guest.WaitDone(90),
            ("before", true), ("spoof-foreign", false), ("spoof-neighbour", false), ("arp-forged-sender", false),
            ("spoof-mac", false), ("after", true));

        Assert.True(net.Counter("spoofed") - spoofedBefore >= 6, "spoofed pings not counted as spoofed");
        Assert.True(net.ArpDrops() - arpBefore >= 6, "forged ARP not dropped");
        Assert.Matches(new Regex("icmp type echo-request counter packets 0 "), net.Internet.Exec("nft", "list", "table", "inet", "watch").Stdout);
        var neighbours = net.Host.Exec("ip", "neigh", "show", "dev", tap).Stdout;
        Assert.DoesNotContain("10.0.0.99", neighbours, StringComparison.Ordinal);
        Assert.DoesNotContain(peer + " ", neighbours, StringComparison.Ordinal);
        Assert.DoesNotContain("02:de:ad:be:ef", net.Host.Exec("ip", "neigh", "show").Stdout, StringComparison.Ordinal);
    }
}
