using System.Diagnostics;

namespace ArcBox.Cli.Infrastructure;

public static class ChildProcess
{
    /// <summary>Ends a child and everything it started, waits a little, and releases it; a child already gone is fine.</summary>
    public static void KillTree(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        p.Dispose();
    }
}
