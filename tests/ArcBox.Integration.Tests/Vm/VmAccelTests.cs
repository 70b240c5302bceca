using System.Text.Json;
using ArcBox.Daemon.Vms;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Vm;

/// <summary>
/// How `--accel auto` chooses, on each kind of host. The real QEMU is tested end to end (the verdict the daemon
/// reached must be the one QEMU's own probe gives on this machine); the failure modes of half-working KVM are
/// played by a stand-in QEMU (config key vm.qemu) that fails under -accel kvm as such hosts do, and runs the real
/// QEMU otherwise.
/// </summary>
public class VmAccelTests
{
    private const string MsrAbort = """
        echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
        echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
        """;

    private static string? WhyNot => VmGuest.WhyNot;

    [Fact]
    public void Auto_picks_what_qemu_itself_showed_on_this_host_and_says_why()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("vmacc");
        net.Create("vm", "network:\n  outbound: []\n", attach: "tap");
        var guest = VmGuest.Start(net, "vm", "echo hello\n");
        guest.WaitDone();

        var spec = net.Get("v1/sandboxes/vm/vm").GetProperty("spec");
        var accel = spec.GetProperty("accel").GetString();
        var note = spec.GetProperty("accelNote").GetString()!;
        var probe = QemuKvmProbe.Run(QemuCommand.DefaultBinary, net.Directory, VmHost.ProbeBound);
        if (probe.Usable && !note.Contains("the probe passed, but", StringComparison.Ordinal))
        {
            Assert.Equal("kvm", accel);
            Assert.StartsWith("auto: QEMU ran a probe guest under -accel kvm -cpu host in ", note, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("tcg", accel);
            Assert.StartsWith("auto: kvm unusable: ", note, StringComparison.Ordinal);
        }

        Assert.Contains($"kvm {(accel == "kvm" ? "usable" : "unusable")} for VMs under --accel auto: ", net.DaemonLog, StringComparison.Ordinal);
        Assert.Contains($"sandbox vm: VM started (QEMU pid ", net.DaemonLog, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_boots_under_tcg_where_qemu_aborts_under_kvm_and_explicit_kvm_fails_with_qemu_own_error()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var qemu = new StandIn($"""
            if [ "$accel" = kvm ]; then
            {MsrAbort}
              [ "$bios" = yes ] && exit 134
              exit 1
            fi
            exec -a qemu-system-x86_64 "$real" "$@"
            """);
        using var net = new TestNetwork("vmmsr", configExtra: qemu.Config);
        net.Create("vm", "network:\n  outbound: []\n", attach: "tap");
        VmGuest.Start(net, "vm", "echo hello\n").WaitDone();

        var spec = net.Get("v1/sandboxes/vm/vm").GetProperty("spec");
        Assert.Equal("tcg", spec.GetProperty("accel").GetString());
        Assert.Equal(
            "auto: kvm unusable: QEMU under -accel kvm -cpu host exited 134 running its probe guest: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 "
            + "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.",
            spec.GetProperty("accelNote").GetString());
        Assert.Contains("kvm unusable for VMs under --accel auto: QEMU under -accel kvm -cpu host exited 134", net.DaemonLog, StringComparison.Ordinal);

        // The probe ran once for the daemon; the guest itself was never tried under KVM.
        Assert.Equal(["probe kvm", "launch tcg"], qemu.Calls());

        // Given explicitly, kvm is not probed and never falls back: QEMU's own error, and `vm run` leaves no sandbox.
        var image = VmImage.Instance;
        var kvm = net.Arcbox("vm", "run", "k", "--kernel", image.Kernel, "--initrd", image.Initrd, "--accel", "kvm", "--memory", "64");
        Assert.Equal(3, kvm.ExitCode);
        Assert.Contains("QEMU for 'k' failed (exit 1): qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69", kvm.Stderr, StringComparison.Ordinal);
        Assert.Equal(["probe kvm", "launch tcg", "launch kvm"], qemu.Calls());
        Assert.Equal(1, net.Arcbox("inspect", "k").ExitCode);
    }

    [Fact]
    public void Auto_restarts_under_tcg_when_qemu_passes_the_probe_but_fails_the_guest_and_remembers_it()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var qemu = new StandIn($"""
            if [ "$accel" = kvm ] && [ "$bios" = no ]; then
            {MsrAbort}
              exit 1
            fi
            exec -a qemu-system-x86_64 "$real" $(tcg "$@")
            """);
        using var net = new TestNetwork("vmlch", configExtra: qemu.Config);
        net.Create("a", "network:\n  outbound: []\n", attach: "tap");
        net.Create("b", "network:\n  outbound: []\n", attach: "tap");
        VmGuest.Start(net, "a", "echo hello\n").WaitDone();
        VmGuest.Start(net, "b", "echo hello\n").WaitDone();

        var a = net.Get("v1/sandboxes/a/vm").GetProperty("spec");
        Assert.Equal("tcg", a.GetProperty("accel").GetString());
        Assert.Equal(
            "auto: kvm unusable: the probe passed, but QEMU for 'a' failed (exit 1): qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69; "
            + "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.; started under tcg",
            a.GetProperty("accelNote").GetString());

        // The second guest goes straight to TCG: the daemon keeps what the first one showed.
        var b = net.Get("v1/sandboxes/b/vm").GetProperty("spec");
        Assert.Equal("tcg", b.GetProperty("accel").GetString());
        Assert.StartsWith("auto: kvm unusable: the probe passed, but QEMU for 'a' failed (exit 1)", b.GetProperty("accelNote").GetString(), StringComparison.Ordinal);
        Assert.Equal(["probe kvm", "launch kvm", "launch tcg", "launch tcg"], qemu.Calls());
        Assert.Contains("kvm usable for VMs under --accel auto: QEMU ran a probe guest", net.DaemonLog, StringComparison.Ordinal);
        Assert.Contains("kvm unusable for VMs under --accel auto: the probe passed, but QEMU for 'a' failed", net.DaemonLog, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_that_tcg_shares_leaves_kvm_usable()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");

        // QEMU refuses sandbox a under any accelerator (as for a busy TAP), and runs b ("kvm" played by TCG).
        using var qemu = new StandIn("""
            for a in "$@"; do
              if [ "$a" = arcbox-a ]; then echo "qemu-system-x86_64: could not configure /dev/net/tun (ab-a): Device or resource busy" >&2; exit 1; fi
            done
            exec -a qemu-system-x86_64 "$real" $(tcg "$@")
            """);
        using var net = new TestNetwork("vmshr", configExtra: qemu.Config);
        net.Create("a", "network:\n  outbound: []\n", attach: "tap");
        net.Create("b", "network:\n  outbound: []\n", attach: "tap");
        var image = VmImage.Instance;
        using (var api = net.Api())
        {
            var failed = Assert.Throws<ArcBox.Cli.Infrastructure.CliException>(() => api.SendAsync(HttpMethod.Post, "v1/sandboxes/a/vm", new VmRequest(image.Kernel, image.Initrd, null, 64, 1, null), TestContext.Current.CancellationToken).GetAwaiter().GetResult());
            Assert.Contains("QEMU for 'a' failed (exit 1): qemu-system-x86_64: could not configure /dev/net/tun (ab-a): Device or resource busy", failed.Message, StringComparison.Ordinal);
        }

        // "kvm" here is TCG, which needs the TSC rate that ArcBox passes only under tcg.
        VmGuest.Start(net, "b", "echo hello\n", append: $"tsc_early_khz={QemuCommand.HostTscKhz()}").WaitDone();
        var spec = net.Get("v1/sandboxes/b/vm").GetProperty("spec");
        Assert.Equal("kvm", spec.GetProperty("accel").GetString());
        Assert.StartsWith("auto: QEMU ran a probe guest under -accel kvm -cpu host in ", spec.GetProperty("accelNote").GetString(), StringComparison.Ordinal);
        Assert.Equal(["probe kvm", "launch kvm", "launch tcg", "launch kvm"], qemu.Calls());
        Assert.DoesNotContain("kvm unusable", net.DaemonLog, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_restarts_under_tcg_a_guest_that_stays_silent_under_kvm()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");

        // Under "kvm" QEMU starts with its vCPU stopped (-S): QEMU runs, the guest never says a word.
        using var qemu = new StandIn("""
            if [ "$accel" = kvm ] && [ "$bios" = no ]; then
              exec -a qemu-system-x86_64 "$real" -S $(tcg "$@")
            fi
            exec -a qemu-system-x86_64 "$real" $(tcg "$@")
            """);
        using var net = new TestNetwork("vmsil", configExtra: qemu.Config);
        net.Create("vm", "network:\n  outbound: []\n", attach: "tap");
        var guest = VmGuest.Start(net, "vm", "echo hello\n");

        // The silent QEMU is gone before the request returns; the guest under TCG (still booting) is the only one.
        Assert.Single(VmGuest.QemuOf(net));
        guest.WaitDone();
        var spec = net.Get("v1/sandboxes/vm/vm").GetProperty("spec");
        Assert.Equal("tcg", spec.GetProperty("accel").GetString());
        Assert.Equal(
            $"auto: kvm unusable: the probe passed, but the guest printed nothing on its console within {VmHost.KvmFirstOutputBound.TotalSeconds:0} s under kvm; started under tcg",
            spec.GetProperty("accelNote").GetString());
        Assert.Equal(["probe kvm", "launch kvm", "launch tcg"], qemu.Calls());
    }

    /// <summary>A stand-in qemu-system-x86_64: a script that records each call ("probe kvm", "launch tcg") and then
    /// runs BODY with $accel, $bios (yes for the KVM probe) and $real set, and a tcg function that prints its
    /// arguments one per line with kvm swapped for tcg (and -cpu host for max). The real QEMU it starts keeps the
    /// name qemu-system-x86_64, as the daemon's own would.</summary>
    private sealed class StandIn : IDisposable
    {
        private readonly string directory = Directory.CreateTempSubdirectory("arcbox-qemu-").FullName;

        public StandIn(string body)
        {
            var real = ProcessRunner.Run("sh", ["-c", $"command -v {QemuCommand.DefaultBinary}"]).EnsureSuccess("find QEMU").Stdout.Trim();
            File.WriteAllText(Path, $$"""
                #!/bin/bash
                real={{real}}
                accel=; bios=no; prev=
                for a in "$@"; do
                  [ "$prev" = -accel ] && accel=$a
                  [ "$a" = -bios ] && bios=yes
                  prev=$a
                done
                [ "$bios" = yes ] && echo "probe $accel" >> {{Log}} || echo "launch $accel" >> {{Log}}
                tcg() { for a in "$@"; do case "$a" in kvm) echo tcg ;; host) echo max ;; *) printf '%s\n' "$a" ;; esac; done; }
                IFS=$'\n'; set -f
                {{body}}
                """.ReplaceLineEndings("\n"));
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public string Path => System.IO.Path.Combine(directory, "qemu-system-x86_64");

        public string Config => $"vm:\n  qemu: {Path}\n";

        private string Log => System.IO.Path.Combine(directory, "calls.log");

        public List<string> Calls() => File.Exists(Log) ? [.. File.ReadAllLines(Log)] : [];

        public void Dispose() => Directory.Delete(directory, recursive: true);
    }
}
