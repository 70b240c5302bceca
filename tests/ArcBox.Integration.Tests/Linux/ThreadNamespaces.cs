namespace ArcBox.Integration.Tests.Linux;

/// <summary>Which network namespace each thread of this process is in (the trap of DESIGN §4).</summary>
public static class ThreadNamespaces
{
    public static List<string> ThreadsOutsideProcessNamespace()
    {
        var mine = new FileInfo("/proc/self/ns/net").LinkTarget;
        var strays = new List<string>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                var ns = new FileInfo(Path.Combine(task, "ns", "net")).LinkTarget;
                if (ns != mine)
                {
                    strays.Add($"{Path.GetFileName(task)} ({File.ReadAllText(Path.Combine(task, "comm")).Trim()}) in {ns}");
                }
            }
            catch (IOException)
            {
                // The thread exited while we looked.
            }
        }

        return strays;
    }
}
