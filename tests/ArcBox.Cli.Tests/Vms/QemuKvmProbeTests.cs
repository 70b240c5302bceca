using ArcBox.Daemon.Vms;

namespace ArcBox.Cli.Tests.Vms;

public sealed class QemuKvmProbeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public void The_firmware_is_one_64_KiB_image_with_its_code_at_the_reset_vector()
    {
        var image = QemuKvmProbe.Firmware();
        Assert.Equal(65536, image.Length);

        // mov dx, 0x3f8; mov al, 'K'; out dx, al; mov al, 0x21; out 0xf4, al; hlt; jmp back to the hlt
        Assert.Equal(
            new byte[] { 0xBA, 0xF8, 0x03, 0xB0, (byte)'K', 0xEE, 0xB0, 0x21, 0xE6, 0xF4, 0xF4, 0xEB, 0xFD },
            image[0xFFF0..0xFFFD]);
        Assert.Equal(67, QemuKvmProbe.ExpectedExitCode);
    }

    [Fact]
    public void The_probe_runs_the_same_cpu_model_as_a_kvm_guest()
    {
        var args = QemuKvmProbe.Arguments("/usr/bin/qemu-system-x86_64", "/s/probe.bin");
        Assert.Equal("/usr/bin/qemu-system-x86_64", args[0]);
        Assert.Equal(QemuCommand.CpuModel("kvm"), args[args.ToList().IndexOf("-cpu") + 1]);
        Assert.Equal("kvm", args[args.ToList().IndexOf("-accel") + 1]);
        Assert.Equal("microvm", args[args.ToList().IndexOf("-machine") + 1]);
        Assert.Equal("/s/probe.bin", args[args.ToList().IndexOf("-bios") + 1]);
    }

    [Fact]
    public void Only_the_guest_own_exit_with_its_output_means_kvm_works()
    {
        Assert.Null(QemuKvmProbe.Interpret(67, "K", "", Bound));
        Assert.Null(QemuKvmProbe.Interpret(67, "K", "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n", Bound));

        Assert.Equal(
            "QEMU under -accel kvm -cpu host exited 134 running its probe guest: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 "
            + "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.",
            QemuKvmProbe.Interpret(134, "", "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n", Bound));
        Assert.Equal(
            "QEMU under -accel kvm -cpu host exited 1 running its probe guest: qemu-system-x86_64: Could not access KVM kernel module: No such file or directory",
            QemuKvmProbe.Interpret(1, "", "qemu-system-x86_64: Could not access KVM kernel module: No such file or directory\n", Bound));
        Assert.Equal("QEMU under -accel kvm -cpu host ran its probe guest for 5 s without finishing", QemuKvmProbe.Interpret(null, "", "", Bound));
        Assert.Equal("QEMU under -accel kvm -cpu host ended its probe guest without the guest's serial output", QemuKvmProbe.Interpret(67, "", "", Bound));
        Assert.StartsWith("QEMU under -accel kvm -cpu host exited 0", QemuKvmProbe.Interpret(0, "K", "", Bound), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_qemu_is_a_verdict_not_a_crash()
    {
        var dir = Directory.CreateTempSubdirectory("arcbox-probe-").FullName;
        try
        {
            var verdict = QemuKvmProbe.Run("/nonexistent/qemu-system-x86_64", dir, Bound);
            Assert.False(verdict.Usable);
            Assert.StartsWith("cannot run /nonexistent/qemu-system-x86_64 to probe KVM: ", verdict.Reason, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
