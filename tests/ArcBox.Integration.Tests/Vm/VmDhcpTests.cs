using System.Text.RegularExpressions;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Vm;

/// <summary>The daemon's DHCP server as a real guest's busybox udhcpc sees it.</summary>
public class VmDhcpTests
{
    private const string Web = TestNetwork.WebServer;

    private static string? WhyNot => VmGuest.WhyNot;

    [Fact]
    public void Dhcp_gives_the_guest_its_sandbox_address_and_renews_and_answers_nobody_else()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmdhcp", configExtra: "dhcp:\n  lease_seconds: 16\n");
        net.Create("peer", builtin: "default");
        var vm = net.Create("vm", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n    - protocol: udp\n      port: 53\n", attach: "tap");
        var address = vm.GetProperty("ipv4").GetString();
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");

        var guest = VmGuest.Start(net, "vm", $"""
            tcp after-lease {Web} 80
            dns dns-self vm.arcbox.internal
            # busybox renews at half the lease (treating leases under 16 s as 16 s) and, for leases under two
            # minutes, by broadcast: wait until its script reports the renewal, at most 40 s.
            udhcpc -i eth0 -f -t 3 -T 1 -A 1 2>&1 | tee /tmp/udhcpc.out &
            i=0
            while ! grep -q "ARCBOX-DHCP renew" /tmp/udhcpc.out 2>/dev/null && [ $i -lt 80 ]; do sleep 0.5; i=$((i + 1)); done
            killall udhcpc
            tcp after-renew {Web} 80
            """, append: "ip=dhcp");
        var bound = guest.WaitFor("ARCBOX-DHCP", 60);
        Assert.Equal($"ARCBOX-DHCP bound ip={address} mask=24 router=10.0.0.1 dns=10.0.0.1 lease=16 serverid=10.0.0.1", bound);
        var probes = guest.WaitDone(90);
        guest.AssertProbes(probes, ("after-lease", true), ("dns-self", true), ("after-renew", true));
        Assert.Equal($"ok {address}", probes["dns-self"]);
        Assert.True(Regex.IsMatch(guest.Console, $@"ARCBOX-DHCP renew ip={Regex.Escape(address!)} "), "no renewal:\n" + guest.Console + "\nDaemon:\n" + net.DaemonLog);

        // Only tap sandboxes are served: a netns sandbox and the uplink side ask in vain.
        var client = new[] { VmImage.Instance.Busybox, "udhcpc", "-i", "eth0", "-n", "-q", "-t", "2", "-T", "1", "-s", "/bin/true" };
        var fromNetns = ProcessRunner.Run("nsenter", [$"--net={net.NamespaceOf("peer")}", .. client]);
        var fromUplink = ProcessRunner.Run("nsenter", [$"--net={TestNetwork.NetnsPath(net.Internet)}", .. client]);
        Assert.True(fromNetns.ExitCode != 0, "a netns sandbox got a DHCP lease: " + fromNetns.Stderr);
        Assert.True(fromUplink.ExitCode != 0, "the uplink side got a DHCP lease: " + fromUplink.Stderr);
    }
}
