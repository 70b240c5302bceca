using System.Diagnostics;
using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Sandboxes in namespaces ArcBox did not create: a named one (netns:PATH) and a process's (pid:PID).</summary>
public class AttachTests
{
    [Fact]
    public void Existing_namespace_is_wired_enforced_and_left_in_place_by_rm()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("attns");
        using var container = new TestNamespace("ctr");
        var path = TestNetwork.NetnsPath(container);
        var created = net.Create("ctr", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n", attach: $"netns:{path}");
        Assert.Equal(path, created.GetProperty("netnsPath").GetString());
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,443");
        Assert.True(net.Reaches(path, "tcp:203.0.113.10:80"));
        Assert.False(net.Reaches(path, "tcp:203.0.113.10:443", 700));

        // A second sandbox in the same namespace is refused; rm takes our link, not the namespace.
        Assert.Equal(1, net.Arcbox("create", "again", "--attach", $"netns:{path}").ExitCode);
        net.Remove("ctr");
        Assert.True(File.Exists(path));
        Assert.DoesNotContain("eth0", container.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_that_fails_on_its_link_leaves_nothing_behind()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("attfail");
        using var container = new TestNamespace("ctrf");
        var path = TestNetwork.NetnsPath(container);

        // A link named eth0 already: the create fails on its own link, which is made before the rules are sent.
        container.Exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1").EnsureSuccess("eth0");
        var failed = net.Arcbox("create", "early", "--attach", $"netns:{path}");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("already has a link named eth0", failed.Stderr, StringComparison.Ordinal);
        ExpectNothingOf(net, "early");
        Assert.Contains("eth1", container.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);

        // Nothing was held: the same name in a clean namespace works, and its rules are there.
        net.Create("early", builtin: "default");
        Assert.Contains("sb_early_out", net.NftList("ruleset"), StringComparison.Ordinal);
    }

    [Fact]
    public void Sandbox_link_has_no_ipv6_on_an_ipv4_only_network_and_no_dad_on_a_dual_stack_one()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        static string Inside(string ns, params string[] command) =>
            ProcessRunner.Run("nsenter", [$"--net={ns}", .. command]).EnsureSuccess(string.Join(' ', command)).Stdout.Trim();

        // The namespace ArcBox makes gets it by default, a container's on the link itself: the same result.
        using (var net = new TestNetwork("v4only"))
        using (var container = new TestNamespace("ctr4"))
        {
            net.Create("own", builtin: "default");
            net.Create("ctr", builtin: "default", attach: $"netns:{TestNetwork.NetnsPath(container)}");
            foreach (var ns in new[] { net.NamespaceOf("own"), TestNetwork.NetnsPath(container) })
            {
                Assert.Equal("1", Inside(ns, "cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"));
                Assert.DoesNotContain("inet6", Inside(ns, "ip", "-o", "addr", "show", "dev", "eth0"), StringComparison.Ordinal);
            }
        }

        using var dual = new TestNetwork("v6dad", dualStack: true);
        dual.Create("own", builtin: "default");
        var own = dual.NamespaceOf("own");
        Assert.Equal("0", Inside(own, "cat", "/proc/sys/net/ipv6/conf/eth0/accept_dad"));
        var v6 = Inside(own, "ip", "-o", "-6", "addr", "show", "dev", "eth0", "scope", "global");
        Assert.Contains("fd00:ab::", v6, StringComparison.Ordinal);
        Assert.DoesNotContain("tentative", v6, StringComparison.Ordinal);
    }

    private static void ExpectNothingOf(TestNetwork net, string name)
    {
        Assert.Equal(1, net.Arcbox("inspect", name).ExitCode);
        Assert.DoesNotContain($"sb_{name}_", net.NftList("ruleset"), StringComparison.Ordinal);
        Assert.DoesNotContain($"{net.Prefix}-{name}", net.Host.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Process_namespace_is_named_wired_and_unnamed_by_rm()
    {
        Assert.SkipWhen(Needs.Root is not null || !ProcessRunner.Exists("unshare"), "needs root and unshare");
        using var net = new TestNetwork("attpid");
        using var process = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "120"]) { UseShellExecute = false })!;
        try
        {
            // unshare(1) calls unshare(2) and then execs sleep: the same process, in its own network namespace.
            var pid = process.Id;
            var ours = new FileInfo("/proc/self/ns/net").LinkTarget;
            Eventually.Until(() => new FileInfo($"/proc/{pid}/ns/net").LinkTarget, theirs => theirs != ours, TimeSpan.FromSeconds(10), $"unshare (pid {pid}) to leave our network namespace {ours}");

            var created = net.Create("proc", builtin: "default", attach: $"pid:{pid}");
            var path = created.GetProperty("netnsPath").GetString()!;
            Assert.Equal(net.NamespaceOf("proc"), path);
            net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
            Assert.True(net.Reaches(path, "tcp:203.0.113.10:80"));
            var inside = ProcessRunner.Run("nsenter", [$"--net=/proc/{pid}/ns/net", "ip", "-o", "-4", "addr"]).Stdout;
            Assert.Contains("10.0.0.2/24", inside, StringComparison.Ordinal);
            net.Remove("proc");
            Assert.False(File.Exists(path));
            Assert.DoesNotContain("10.0.0.2", ProcessRunner.Run("nsenter", [$"--net=/proc/{pid}/ns/net", "ip", "-o", "-4", "addr"]).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    [Fact]
    public void Tap_sandbox_exists_with_vnet_header_owner_and_vmm_arguments()
    {
        Assert.SkipWhen(Needs.Root is not null || !File.Exists("/dev/net/tun"), "needs root and /dev/net/tun");
        using var net = new TestNetwork("atttap");
        var r = net.Arcbox("create", "vm1", "--attach", "tap", "--tap-owner", "1234:5678", "--json");
        Assert.Equal(0, r.ExitCode);
        var vm = JsonDocument.Parse(net.Arcbox("inspect", "vm1").EnsureSuccess("inspect").Stdout).RootElement;
        var tap = vm.GetProperty("tapName").GetString()!;
        var link = net.Host.Exec("ip", "-d", "link", "show", tap).EnsureSuccess("ip link").Stdout;
        Assert.Contains("tun type tap", link, StringComparison.Ordinal);
        Assert.Contains("user 1234", link, StringComparison.Ordinal);
        Assert.Contains("group 5678", link, StringComparison.Ordinal);
        Assert.Contains("vnet_hdr", link, StringComparison.Ordinal);
        var vmm = vm.GetProperty("vmm");
        Assert.Contains($"ifname={tap}", vmm.GetProperty("qemu").GetString(), StringComparison.Ordinal);
        Assert.Contains(vm.GetProperty("mac").GetString()!, vmm.GetProperty("qemu").GetString(), StringComparison.Ordinal);
        Assert.Equal(tap, vmm.GetProperty("firecracker").GetProperty("host_dev_name").GetString());
        Assert.StartsWith("ip=10.0.0.2::10.0.0.1:255.255.255.0", vmm.GetProperty("kernelIp").GetString(), StringComparison.Ordinal);
        Assert.Equal(125, net.Arcbox("exec", "vm1", "--", "true").ExitCode);
        Assert.Equal(0, net.Arcbox("rm", "vm1").ExitCode);
        Assert.NotEqual(0, net.Host.Exec("ip", "link", "show", tap).ExitCode);
    }
}
