namespace ArcBox.Linux;

/// <summary>Scheduling of the calling OS thread.</summary>
public static class CurrentThread
{
    /// <summary>
    /// Sets the calling thread's nice value (Linux keeps one per thread: setpriority on its thread id). Work done
    /// at a higher nice value gives way to the rest of the process when cores are short.
    /// </summary>
    public static void SetNice(int nice)
    {
        if (Interop.Sys.SetPriority(Interop.Sys.PRIO_PROCESS, Interop.Sys.GetTid(), nice) != 0)
        {
            throw KernelException.Last($"setpriority {nice}");
        }
    }
}
