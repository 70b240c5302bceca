namespace ArcBox.Testing;

/// <summary>Kernel tests need root and the tools; they skip with a stated reason otherwise (CI runs as root).</summary>
public static class Root
{
    public static bool IsRoot => Environment.UserName == "root" || geteuid() == 0;

    /// <summary>Null when kernel tests can run here, else why not.</summary>
    public static string? WhyNot(params string[] commands)
    {
        if (!IsRoot)
        {
            return "needs root (network namespaces and nftables); CI runs as root";
        }

        var missing = commands.Where(c => !ProcessRunner.Exists(c)).ToList();
        return missing.Count > 0 ? $"needs {string.Join(", ", missing)} on PATH (./run-tests installs them)" : null;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}
