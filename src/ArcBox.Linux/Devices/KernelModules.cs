using System.Diagnostics;

namespace ArcBox.Linux.Devices;

/// <summary>Kernel modules the datapath needs, loaded with the parameters ArcBox wants rather than by autoload.</summary>
public static class KernelModules
{
    /// <summary>
    /// Loads ifb with no devices of its own. The first ifb link created over rtnetlink autoloads the module with its
    /// default numifbs=2, which makes ifb0 and ifb1 in the initial network namespace, whatever namespace asked:
    /// links on the machine's own network that nobody wanted. Null when ifb is there (or now loaded); otherwise why not.
    /// </summary>
    public static string? LoadIfb()
    {
        if (Directory.Exists("/sys/module/ifb"))
        {
            return null;
        }

        try
        {
            using var modprobe = Process.Start(new ProcessStartInfo("modprobe", ["ifb", "numifbs=0"]) { RedirectStandardError = true, UseShellExecute = false })
                ?? throw new InvalidOperationException("cannot start modprobe");
            var stderr = modprobe.StandardError.ReadToEndAsync();
            if (!modprobe.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                modprobe.Kill();
                return "modprobe ifb numifbs=0 did not finish within 10 s";
            }

            return modprobe.ExitCode == 0 ? null : $"modprobe ifb numifbs=0: exit {modprobe.ExitCode}: {stderr.Result.Trim()}";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"modprobe ifb numifbs=0: {ex.Message}";
        }
    }
}
