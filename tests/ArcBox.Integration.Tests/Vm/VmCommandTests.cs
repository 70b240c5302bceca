using System.Text.Json;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Vm;

/// <summary>`arcbox vm ...` from the command line: foreground runs, timeouts, detach, rm, and bad requests.</summary>
public class VmCommandTests
{
    private const string Web = TestNetwork.WebServer;

    private static string? WhyNot => VmGuest.WhyNot;

    [Fact]
    public void Vm_commands_run_a_guest_in_the_foreground_time_it_out_and_show_how_to_attach()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmcli");
        var image = VmImage.Instance;
        var policy = Path.Combine(net.Directory, "web.yaml");
        File.WriteAllText(policy, "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");

        // Foreground: the console streams to stdout and the run ends when the guest powers off.
        var run = net.Arcbox("vm", "run", "web", "--kernel", image.Kernel, "--initrd", image.InitrdWith($"tcp web {Web} 80\n", net.Directory), "--policy", policy, "--memory", "192", "--timeout", "50");
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Contains("ARCBOX-PROBE web ok", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("ARCBOX-DONE 0", run.Stdout, StringComparison.Ordinal);

        var inspect = JsonDocument.Parse(net.Arcbox("inspect", "web", "--json").EnsureSuccess("inspect").Stdout).RootElement;
        var tap = inspect.GetProperty("tapName").GetString();
        var mac = inspect.GetProperty("mac").GetString();
        var vmm = inspect.GetProperty("vmm");
        Assert.Equal($"-netdev tap,id=net0,ifname={tap},script=no,downscript=no,vhost=off,vnet_hdr=on -device virtio-net-device,netdev=net0,mac={mac}", vmm.GetProperty("qemu").GetString());
        Assert.Equal(tap, vmm.GetProperty("firecracker").GetProperty("host_dev_name").GetString());
        Assert.Equal(mac, vmm.GetProperty("firecracker").GetProperty("guest_mac").GetString());
        Assert.Equal("stopped", inspect.GetProperty("vm").GetProperty("state").GetString());

        // --timeout stops a guest that does not finish, with exit code 124, and leaves no QEMU behind.
        var slow = net.Arcbox("vm", "run", "slow", "--kernel", image.Kernel, "--initrd", image.InitrdWith("echo ARCBOX-WAIT forever\nsleep 600\n", net.Directory), "--memory", "192", "--timeout", "8");
        Assert.True(slow.ExitCode == 124, $"exit {slow.ExitCode}: {slow.Stderr}");
        Assert.Contains("ARCBOX-WAIT forever", slow.Stdout, StringComparison.Ordinal);
        Assert.Contains("stopped after 8 s", slow.Stderr, StringComparison.Ordinal);
        var list = JsonDocument.Parse(net.Arcbox("vm", "ls", "--json").EnsureSuccess("vm ls").Stdout).RootElement;
        Assert.All(list.EnumerateArray(), v => Assert.Equal("stopped", v.GetProperty("state").GetString()));
        Assert.Empty(VmGuest.QemuOf(net));

        // A detached guest ends with rm: no QEMU, no sandbox.
        net.Arcbox("vm", "run", "bg", "--kernel", image.Kernel, "--initrd", image.InitrdWith("sleep 600\n", net.Directory), "--memory", "192", "--detach").EnsureSuccess("vm run --detach");
        Assert.Single(VmGuest.QemuOf(net));
        net.Arcbox("rm", "bg").EnsureSuccess("rm");
        Assert.Empty(VmGuest.QemuOf(net));
        Assert.Equal(1, net.Arcbox("inspect", "bg").ExitCode);
    }

    [Fact]
    public void Bad_vm_requests_are_refused_and_leave_nothing_behind()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmbad");
        var image = VmImage.Instance;
        net.Create("box", builtin: "default");

        foreach (var (args, message) in new[]
        {
            (new[] { "vm", "run", "a", "--kernel", "/nonexistent/vmlinuz" }, "--kernel: /nonexistent/vmlinuz: no such file"),
            (["vm", "run", "a", "--kernel", image.Kernel, "--memory", "8"], "memory: 8 MB is outside 32-1048576"),
            (["vm", "run", "a", "--kernel", image.Kernel, "--accel", "xen"], "accel: expected auto, kvm or tcg, not 'xen'"),
            (["vm", "run", "a", "--kernel", image.Kernel, "--cpus", "0"], "cpus: 0 is outside 1-64"),
            (["vm", "run", "box", "--kernel", image.Kernel], "sandbox 'box' is a netns sandbox; a VM needs a tap sandbox"),
            (["vm", "run", "a"], "--kernel FILE is required"),
            (["vm", "stop", "nosuch"], "no sandbox named 'nosuch'"),
        })
        {
            var r = net.Arcbox(args);
            Assert.True(r.ExitCode is 1 or 2, $"{string.Join(' ', args)}: exit {r.ExitCode}");
            Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        }

        // A failed start on an existing tap sandbox leaves its policy as it was.
        net.Create("tapbox", "network:\n  outbound:\n    - protocol: tcp\n      port: 443\n", attach: "tap");
        var other = Path.Combine(net.Directory, "other.yaml");
        File.WriteAllText(other, "network:\n  outbound: []\n");
        var failed = net.Arcbox("vm", "run", "tapbox", "--kernel", image.Kernel, "--memory", "8", "--policy", other);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("port: 443", net.Arcbox("policy", "show", "tapbox").EnsureSuccess("policy show").Stdout, StringComparison.Ordinal);

        var names = net.Get("v1/sandboxes").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Equal(["box", "tapbox"], names);
        Assert.Empty(VmGuest.QemuOf(net));
    }
}
