using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Vm;

/// <summary>A real guest on a tap sandbox is policed by the host kernel exactly as a netns sandbox is, a policy
/// change reaches it without a reboot, and it outlives the daemon.</summary>
public class VmPolicyTests
{
    private const string Web = TestNetwork.WebServer;

    private static string? WhyNot => VmGuest.WhyNot;

    [Fact]
    public void Guest_traffic_follows_its_policy_both_ways_and_talks_to_a_netns_sandbox()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmpol");
        var peer = net.Create("peer", """
            network:
              outbound:
                - protocol: tcp
                  ports: [8080, 8081]
                  to: sandbox:vm
              inbound:
                - from: sandbox:vm
                  protocol: tcp
                  port: 7000
            """).GetProperty("ipv4").GetString();
        net.Create("vm", """
            network:
              outbound:
                - protocol: tcp
                  port: 80
                  to: internet
                - protocol: udp
                  port: 5005
                - protocol: icmp
                  to: 203.0.113.10/32
                - protocol: udp
                  port: 53
                - protocol: tcp
                  port: 7000
                  to: sandbox:peer
              inbound:
                - from: sandbox:peer
                  protocol: tcp
                  port: 8080
            """, attach: "tap");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,81,22", udp: "5005,5011");
        net.Serve(TestNetwork.NetnsPath(net.Host), tcp: "2222");
        net.Serve(net.NamespaceOf("peer"), tcp: "7000,7001");

        // DNS first, alone; then the other probes side by side (the denied ones each wait out their timeout); then the
        // guest serves.
        var guest = VmGuest.Start(net, "vm", $"""
            dns dns-peer peer.arcbox.internal
            tcp web80 {Web} 80 &
            tcp web81 {Web} 81 &
            tcp ssh22 {TestNetwork.SshServer} 22 &
            udp udp5005 {Web} 5005 &
            udp udp5011 {Web} 5011 &
            icmp icmp-web {Web} &
            icmp icmp-ssh {TestNetwork.SshServer} &
            tcp host-gateway 10.0.0.1 2222 &
            tcp host-uplink {TestNetwork.HostUplink} 2222 &
            tcp metadata 169.254.169.254 80 &
            tcp peer7000 {peer} 7000 &
            tcp peer7001 {peer} 7001 &
            wait
            serve 8080
            serve 8081
            echo ARCBOX-WAIT inbound
            sleep 120
            """);
        guest.WaitFor("ARCBOX-WAIT", 90);
        var probes = guest.Probes();
        guest.AssertProbes(probes,
            ("web80", true), ("web81", false), ("ssh22", false),
            ("udp5005", true), ("udp5011", false),
            ("icmp-web", true), ("icmp-ssh", false),
            ("host-gateway", false), ("host-uplink", false), ("metadata", false),
            ("dns-peer", true), ("peer7000", true), ("peer7001", false));
        Assert.Equal($"ok {peer}", probes["dns-peer"]);
        Assert.Contains("HTTP/1.0 200 OK", probes["web80"], StringComparison.Ordinal);

        // Inbound: the neighbour reaches the guest's 8080, which the guest's policy opens, and not its 8081.
        var vmAddress = net.Get("v1/sandboxes/vm").GetProperty("ipv4").GetString();
        var inbound = net.Probe(net.NamespaceOf("peer"), [$"tcp:{vmAddress}:8080", $"tcp:{vmAddress}:8081"], 2000);
        Assert.StartsWith("open", inbound[$"tcp:{vmAddress}:8080"], StringComparison.Ordinal);
        Assert.StartsWith("timeout", inbound[$"tcp:{vmAddress}:8081"], StringComparison.Ordinal);
        guest.Stop();
    }

    [Fact]
    public void Policy_set_changes_what_a_running_guest_reaches_without_a_reboot_across_a_daemon_restart()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmswap");
        net.Create("vm", builtin: "offline", attach: "tap");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");

        var guest = VmGuest.Start(net, "vm", $"""
            tcp before {Web} 80
            echo ARCBOX-WAIT open
            until_tcp opened {Web} 80 ok 30
            echo ARCBOX-WAIT close
            until_tcp closed {Web} 80 fail 30
            """);
        guest.WaitFor("ARCBOX-WAIT open", 90);
        net.SetPolicy("vm", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n");
        guest.WaitFor("ARCBOX-WAIT close", 60);

        // The VM outlives a kill -9 of the daemon, which knows it again after the restart.
        net.KillDaemon();
        net.StartDaemon();
        Assert.Equal("running", net.Get("v1/sandboxes/vm/vm").GetProperty("state").GetString());
        net.SetPolicy("vm", "network:\n  outbound: []\n");
        guest.AssertProbes(guest.WaitDone(60), ("before", false), ("opened", true), ("closed", false));
    }
}
