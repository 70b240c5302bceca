using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ArcBox.Linux.SafeHandles;

namespace ArcBox.Linux.Namespaces;

/// <summary>
/// The one thread that enters other network namespaces. A namespace belongs to an OS thread, and threads the
/// runtime creates inherit the creating thread's namespace, so this thread enters, makes only native calls
/// (socket, open, unshare, mount), returns home, and only then completes the caller's wait. Nothing here awaits,
/// starts a task, touches a timer or creates a thread, and the code that runs inside is compiled fully optimised
/// up front so that tiered compilation does not start its background worker from inside a sandbox namespace.
/// </summary>
internal static class NamespaceThread
{
    private static readonly BlockingCollection<Action> Queue = [];
    private static readonly Lazy<SafeFdHandle> Home = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Runs <paramref name="work"/> on the namespace thread inside <paramref name="target"/> (null: stay home).</summary>
    public static T Run<T>(SafeFdHandle? target, Func<T> work, string operation)
    {
        var home = Home.Value;
        T result = default!;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        Queue.Add(() =>
        {
            try
            {
                result = Inside(target, home, work, operation);
            }
            catch (Exception ex)
            {
                error = ex;
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        if (error is not null)
        {
            throw error;
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T Inside<T>(SafeFdHandle? target, SafeFdHandle home, Func<T> work, string operation)
    {
        if (target is not null && Interop.Sys.Setns(target.Fd, Interop.Sys.CLONE_NEWNET) != 0)
        {
            throw KernelException.Last($"{operation}: enter network namespace");
        }

        try
        {
            return work();
        }
        finally
        {
            // Always go home, also after unshare(): a thread left in a sandbox namespace would poison every later call.
            if (Interop.Sys.Setns(home.Fd, Interop.Sys.CLONE_NEWNET) != 0)
            {
                Environment.FailFast($"{operation}: cannot return the namespace thread to its home namespace: {Errno.Last}");
            }
        }
    }

    private static SafeFdHandle Start()
    {
        var fd = Interop.Sys.Open("/proc/thread-self/ns/net", Interop.Sys.O_RDONLY | Interop.Sys.O_CLOEXEC);
        if (fd < 0)
        {
            throw KernelException.Last("open /proc/thread-self/ns/net");
        }

        var home = new SafeFdHandle(fd);
        var thread = new Thread(Loop) { IsBackground = true, Name = "arcbox-netns" };
        thread.Start();
        return home;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Loop()
    {
        foreach (var item in Queue.GetConsumingEnumerable())
        {
            item();
        }
    }
}
