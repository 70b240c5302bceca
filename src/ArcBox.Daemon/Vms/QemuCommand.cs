using System.Globalization;
using ArcBox.Dhcp.Protocol;
using ArcBox.Daemon.State;

namespace ArcBox.Daemon.Vms;

/// <summary>
/// The QEMU command line of a microVM on a TAP sandbox (pure). QEMU opens the TAP, kernel, initrd and its files as
/// root, then drops to the TAP's owner (or nobody) and enters its seccomp sandbox before the guest runs.
/// </summary>
public static class QemuCommand
{
    public const string DefaultBinary = "qemu-system-x86_64";
    public const uint Nobody = 65534;

    /// <summary>The CPU model under KVM (the host's own); the KVM probe runs with the same one.</summary>
    public const string KvmCpuModel = "host";

    public static string CpuModel(string accel) => accel == "kvm" ? KvmCpuModel : "max";

    /// <summary>The kernel arguments ArcBox adds: serial console, reboot by triple fault (QEMU -no-reboot then exits), no
    /// reboot on panic (ends the VM), and the sandbox's address unless the user gave an ip= (ip=dhcp, say).</summary>
    /// <param name="tscKhz">Under TCG, the guest's TSC runs at the host's rate, which the guest is told: microvm has no
    /// HPET or ACPI PM timer, so when its PIT calibration fails (about one boot in three on a busy host) Linux ends up
    /// with no TSC frequency and hangs early in boot. tsc_early_khz is only the fallback it uses then.</param>
    public static string CommandLine(string? append, DhcpLease lease, long? tscKhz = null)
    {
        var words = (append ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ours = new List<string>();
        var defaults = new List<(string, string)> { ("console", "console=ttyS0"), ("reboot", "reboot=t"), ("panic", "panic=-1"), ("ip", lease.KernelIpArgument()) };
        if (tscKhz is { } khz)
        {
            defaults.Add(("tsc_early_khz", $"tsc_early_khz={khz.ToString(CultureInfo.InvariantCulture)}"));
        }

        foreach (var (key, value) in defaults)
        {
            if (!words.Any(w => w.StartsWith(key + "=", StringComparison.Ordinal)))
            {
                ours.Add(value);
            }
        }

        return string.Join(' ', ours.Concat(words));
    }

    public static IReadOnlyList<string> Build(string binary, SandboxRecord r, VmPaths paths, string kernel, string? initrd, string commandLine, int memoryMb, int cpus, string accel)
    {
        var tap = r.Attachment as ArcBox.Daemon.Sandboxes.Attachment.Tap;
        var uid = tap?.Uid ?? Nobody;
        var gid = tap?.Gid ?? tap?.Uid ?? Nobody;
        var args = new List<string>
        {
            binary,
            "-name", $"arcbox-{r.Name}",
            "-machine", "microvm",
            "-accel", accel,
            "-cpu", CpuModel(accel),
            "-m", memoryMb.ToString(CultureInfo.InvariantCulture),
            "-smp", cpus.ToString(CultureInfo.InvariantCulture),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", kernel,
        };
        if (initrd is not null)
        {
            args.AddRange(["-initrd", initrd]);
        }

        args.AddRange(
        [
            "-append", commandLine,
            "-netdev", $"tap,id=net0,ifname={r.Interface},script=no,downscript=no,vhost=off,vnet_hdr=on",
            "-device", $"virtio-net-device,netdev=net0,mac={r.Mac}",
            "-chardev", $"file,id=console0,path={Escape(paths.Console)},append=on",
            "-serial", "chardev:console0",
            "-qmp", $"unix:{Escape(paths.Qmp)},server=on,wait=off",
            "-pidfile", paths.Pid,
            "-runas", $"{uid}:{gid}",

            // Deny obsolete and resource-control system calls; 'spawn=deny' and 'elevateprivileges' would also
            // forbid the fork of -daemonize and the setuid of -runas in QEMU 7.2.
            "-sandbox", "on,obsolete=deny,resourcecontrol=deny",
            "-daemonize",
        ]);
        return args;
    }

    /// <summary>The host's TSC rate in kHz, as the kernel exports it or else as /proc/cpuinfo reports cpu 0's clock;
    /// null when neither says (then the guest calibrates on its own).</summary>
    public static long? HostTscKhz()
    {
        try
        {
            if (File.Exists("/sys/devices/system/cpu/cpu0/tsc_freq_khz")
                && long.TryParse(File.ReadAllText("/sys/devices/system/cpu/cpu0/tsc_freq_khz").Trim(), CultureInfo.InvariantCulture, out var khz) && khz > 0)
            {
                return khz;
            }

            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal)
                    && double.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture, out var mhz) && mhz > 0)
                {
                    return (long)Math.Round(mhz * 1000);
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    /// <summary>A comma inside a QEMU option value is written twice.</summary>
    private static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);
}
