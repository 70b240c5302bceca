using System.Diagnostics;
using System.Globalization;

namespace ArcBox.Daemon.Vms;

/// <summary>
/// Whether the QEMU in use runs a guest under KVM with the CPU model ArcBox passes. A hand-made vCPU is no
/// predictor: on nested hosts /dev/kvm opens and runs HLT, yet QEMU aborts at its first vCPU reset with "failed to
/// set MSR 0x10a" under -cpu host. So the probe is QEMU itself: a microvm with a 64 KiB firmware whose reset vector
/// writes one byte to the serial port and leaves through isa-debug-exit. About 45 ms where it works.
/// </summary>
public static class QemuKvmProbe
{
    /// <summary>What the firmware writes to isa-debug-exit; QEMU then exits with (value &lt;&lt; 1) | 1.</summary>
    public const int ExitValue = 0x21;

    public const int ExpectedExitCode = (ExitValue << 1) | 1;

    public const char Marker = 'K';

    public const string CpuModel = QemuCommand.KvmCpuModel;

    private const int FirmwareSize = 64 * 1024; // QEMU takes a -bios image only in whole 64 KiB units
    private const int ResetVector = FirmwareSize - 16; // F000:FFF0, the last 16 bytes below 4 GiB
    private const byte Hlt = 0xF4;

    /// <summary>Real-mode code at the reset vector: mov dx, 0x3f8; mov al, 'K'; out dx, al; mov al, 0x21;
    /// out 0xf4, al; then hlt forever, should the exit device be missing.</summary>
    public static byte[] Firmware()
    {
        var image = new byte[FirmwareSize];
        Array.Fill(image, Hlt);
        byte[] code = [0xBA, 0xF8, 0x03, 0xB0, (byte)Marker, 0xEE, 0xB0, ExitValue, 0xE6, 0xF4, Hlt, 0xEB, 0xFD];
        code.CopyTo(image, ResetVector);
        return image;
    }

    public static IReadOnlyList<string> Arguments(string binary, string firmware) =>
    [
        binary, "-machine", "microvm", "-accel", "kvm", "-cpu", CpuModel, "-m", "16", "-smp", "1",
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-bios", firmware, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio",
    ];

    /// <summary>Null when the probe guest ran under KVM; otherwise why not, with QEMU's own first words.</summary>
    /// <param name="exitCode">Null when QEMU was killed at the time bound.</param>
    public static string? Interpret(int? exitCode, string stdout, string stderr, TimeSpan bound)
    {
        if (exitCode == ExpectedExitCode && stdout.Contains(Marker, StringComparison.Ordinal))
        {
            return null;
        }

        var said = string.Join(" ", stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.Contains("warning:", StringComparison.Ordinal)).Take(2));
        var how = exitCode switch
        {
            null => $"ran its probe guest for {bound.TotalSeconds:0.#} s without finishing",
            ExpectedExitCode => "ended its probe guest without the guest's serial output",
            var code => $"exited {code.Value.ToString(CultureInfo.InvariantCulture)} running its probe guest",
        };
        return $"QEMU under -accel kvm -cpu {CpuModel} {how}{(said.Length > 0 ? ": " + said : "")}";
    }

    /// <summary>Runs the probe (bounded by <paramref name="bound"/>); the firmware is written to <paramref name="directory"/>.</summary>
    public static KvmVerdict Run(string binary, string directory, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var firmware = Path.Combine(directory, $"kvm-probe-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.bin");
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(firmware, Firmware());
            var args = Arguments(binary, firmware);
            var start = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in args.Skip(1))
            {
                start.ArgumentList.Add(a);
            }

            using var qemu = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {binary}");
            qemu.StandardInput.Close();
            var stdout = qemu.StandardOutput.ReadToEndAsync();
            var stderr = qemu.StandardError.ReadToEndAsync();
            int? exit = null;
            if (qemu.WaitForExit(bound))
            {
                exit = qemu.ExitCode;
            }
            else
            {
                qemu.Kill(entireProcessTree: true);
                qemu.WaitForExit();
            }

            var why = Interpret(exit, Completed(stdout), Completed(stderr), bound);
            return new KvmVerdict(why is null, why ?? $"QEMU ran a probe guest under -accel kvm -cpu {CpuModel} in {clock.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture)} ms", clock.Elapsed);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return new KvmVerdict(false, $"cannot run {binary} to probe KVM: {ex.Message}", clock.Elapsed);
        }
        finally
        {
            if (File.Exists(firmware))
            {
                File.Delete(firmware);
            }
        }
    }

    private static string Completed(Task<string> output) => output.Wait(TimeSpan.FromSeconds(1)) ? output.Result : "";
}
