using System.Net;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Daemon.Vms;
using ArcBox.Dhcp.Protocol;

namespace ArcBox.Cli.Tests.Vms;

public sealed class QemuCommandTests
{
    private static readonly DhcpLease Lease = new("web", "02:00:0a:00:00:07", IPAddress.Parse("10.0.0.7"), 24, IPAddress.Parse("10.0.0.1"), TimeSpan.FromHours(1));

    private static readonly SandboxRecord Tap = new(
        "web", new Attachment.Tap(1000, null), IPAddress.Parse("10.0.0.7"), null, "02:00:0a:00:00:07", "ab-web", "default", "", true, DateTimeOffset.UnixEpoch);

    [Fact]
    public void ArcBox_adds_console_reboot_panic_address_and_tsc_unless_given()
    {
        Assert.Equal(
            "console=ttyS0 reboot=t panic=-1 ip=10.0.0.7::10.0.0.1:255.255.255.0:web:eth0:off:10.0.0.1 tsc_early_khz=2096019 quiet",
            QemuCommand.CommandLine("quiet", Lease, 2096019));
        Assert.Equal("console=ttyS0 reboot=t panic=-1 ip=dhcp", QemuCommand.CommandLine("ip=dhcp", Lease));
        Assert.Equal("reboot=t panic=-1 ip=dhcp tsc_early_khz=1 console=hvc0", QemuCommand.CommandLine("  ip=dhcp   tsc_early_khz=1 console=hvc0 ", Lease, 5));
    }

    [Fact]
    public void The_vm_gets_the_tap_the_sandbox_mac_its_files_and_drops_to_the_tap_owner()
    {
        var paths = VmPaths.For("/var/lib/arc,box", "web");
        var args = QemuCommand.Build("/opt/qemu/bin/qemu-system-x86_64", Tap, paths, "/k/vmlinuz", "/k/initrd.img", "console=ttyS0", 256, 2, "tcg");

        Assert.Equal("/opt/qemu/bin/qemu-system-x86_64", args[0]);
        Assert.Equal("microvm", After(args, "-machine"));
        Assert.Equal("tcg", After(args, "-accel"));
        Assert.Equal("max", After(args, "-cpu"));
        Assert.Equal("256", After(args, "-m"));
        Assert.Equal("2", After(args, "-smp"));
        Assert.Equal("/k/initrd.img", After(args, "-initrd"));
        Assert.Equal("tap,id=net0,ifname=ab-web,script=no,downscript=no,vhost=off,vnet_hdr=on", After(args, "-netdev"));
        Assert.Equal("virtio-net-device,netdev=net0,mac=02:00:0a:00:00:07", After(args, "-device"));
        Assert.Equal("file,id=console0,path=/var/lib/arc,,box/vms/web/console.log,append=on", After(args, "-chardev"));
        Assert.Equal("1000:1000", After(args, "-runas"));
        Assert.Contains("-no-reboot", args);
        Assert.Contains("-nodefaults", args);
        Assert.Equal("host", After(QemuCommand.Build(QemuCommand.DefaultBinary, Tap with { Attachment = new Attachment.Tap(null, null) }, paths, "/k", null, "", 64, 1, "kvm"), "-cpu"));
        Assert.Equal("65534:65534", After(QemuCommand.Build(QemuCommand.DefaultBinary, Tap with { Attachment = new Attachment.Tap(null, null) }, paths, "/k", null, "", 64, 1, "kvm"), "-runas"));
        Assert.DoesNotContain("-initrd", QemuCommand.Build(QemuCommand.DefaultBinary, Tap, paths, "/k", null, "", 64, 1, "kvm"));
    }

    private static string After(IReadOnlyList<string> args, string option) => args[args.ToList().IndexOf(option) + 1];
}
