using System.Runtime.CompilerServices;
using ArcBox.Linux.SafeHandles;

namespace ArcBox.Linux.Namespaces;

/// <summary>
/// An open network namespace (a file descriptor of /run/netns/NAME or /proc/PID/ns/net). Holding it keeps the
/// namespace alive; work inside it runs on <see cref="NamespaceThread"/>.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    public const string NamedDirectory = "/run/netns";

    private NetworkNamespace(string path, SafeFdHandle handle)
    {
        Path = path;
        Handle = handle;
    }

    public string Path { get; }

    internal SafeFdHandle Handle { get; }

    public static NetworkNamespace Open(string path)
    {
        var fd = Interop.Sys.Open(path, Interop.Sys.O_RDONLY | Interop.Sys.O_CLOEXEC);
        if (fd < 0)
        {
            throw KernelException.Last($"open network namespace {path}");
        }

        var handle = new SafeFdHandle(fd);
        return new NetworkNamespace(path, handle);
    }

    /// <summary>The namespace of the calling thread (the daemon's host namespace when called from it).</summary>
    public static NetworkNamespace Current() => Open("/proc/thread-self/ns/net");

    public static string NamedPath(string name) => System.IO.Path.Combine(NamedDirectory, name);

    public static bool NamedExists(string name) => File.Exists(NamedPath(name));

    /// <summary>
    /// Creates a named namespace the way `ip netns add` does: a bind mount of a fresh namespace on
    /// /run/netns/NAME, with /run/netns made a shared mount so that the name is visible to other mount namespaces.
    /// <paramref name="sysctls"/> are set before anything else is made there, such as the defaults that links
    /// created in it later start from: setting a link's own afterwards costs another trip into the namespace, and
    /// some of them wait for the rtnl lock.
    /// </summary>
    public static NetworkNamespace CreateNamed(string name, IReadOnlyList<(string Key, string Value)>? sysctls = null)
    {
        var path = NamedPath(name);
        PrepareNamedDirectory();
        using (File.Create(path, 1, FileOptions.None))
        {
        }

        sysctls ??= [];
        var files = sysctls.Select(s => Sysctl.PathOf(s.Key)).ToArray();
        var fds = new int[files.Length];
        try
        {
            // The files are opened inside (only native calls there) and written from home.
            NamespaceThread.Run(null, () => UnshareAndMount(path, files, fds), $"create network namespace {name}");
        }
        catch
        {
            CloseAll(fds);
            File.Delete(path);
            throw;
        }

        try
        {
            for (var i = 0; i < fds.Length; i++)
            {
                var fd = fds[i];
                fds[i] = 0;
                Sysctl.Write(fd, sysctls[i].Key, sysctls[i].Value);
            }

            return Open(path);
        }
        catch
        {
            CloseAll(fds);
            DeleteNamed(name);
            throw;
        }
    }

    private static void CloseAll(int[] fds)
    {
        foreach (var fd in fds.Where(fd => fd > 0))
        {
            Interop.Sys.Close(fd);
        }
    }

    /// <summary>Names an existing namespace (a process's /proc/PID/ns/net), as `ip netns attach` does.</summary>
    public static NetworkNamespace AttachNamed(string name, string source)
    {
        var path = NamedPath(name);
        PrepareNamedDirectory();
        using (File.Create(path, 1, FileOptions.None))
        {
        }

        if (Interop.Sys.Mount(source, path, "none", Interop.Sys.MS_BIND, IntPtr.Zero) != 0)
        {
            var error = KernelException.Last($"bind mount {source} on {path}");
            File.Delete(path);
            throw error;
        }

        return Open(path);
    }

    /// <summary>Removes the name; the namespace dies with its last process and open descriptor.</summary>
    public static bool DeleteNamed(string name)
    {
        var path = NamedPath(name);
        if (!File.Exists(path))
        {
            return false;
        }

        if (Interop.Sys.Umount2(path, Interop.Sys.MNT_DETACH) != 0 && Errno.Last != Errno.EINVAL)
        {
            throw KernelException.Last($"unmount network namespace {path}");
        }

        File.Delete(path);
        return true;
    }

    /// <summary>Runs native work inside this namespace (see <see cref="NamespaceThread"/> for what is allowed).</summary>
    public T Run<T>(Func<T> nativeWork, string operation) => NamespaceThread.Run(Handle, nativeWork, operation);

    public void Dispose() => Handle.Dispose();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int UnshareAndMount(string path, string[] files, int[] fds)
    {
        if (Interop.Sys.Unshare(Interop.Sys.CLONE_NEWNET) != 0)
        {
            throw KernelException.Last("unshare network namespace");
        }

        for (var i = 0; i < files.Length; i++)
        {
            fds[i] = Interop.Sys.Open(files[i], Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC);
            if (fds[i] < 0)
            {
                fds[i] = 0;
                throw KernelException.Last($"open {files[i]}");
            }
        }

        if (Interop.Sys.Mount("/proc/thread-self/ns/net", path, "none", Interop.Sys.MS_BIND, IntPtr.Zero) != 0)
        {
            throw KernelException.Last($"bind mount network namespace on {path}");
        }

        return 0;
    }

    private static bool namedDirectoryReady;

    private static void PrepareNamedDirectory()
    {
        // Once per process: with a thousand namespaces mounted below it, a recursive remount costs milliseconds.
        if (namedDirectoryReady && Directory.Exists(NamedDirectory))
        {
            return;
        }

        namedDirectoryReady = true;
        Directory.CreateDirectory(NamedDirectory);

        // As iproute2: make /run/netns a shared mount (bind it onto itself first if it is not a mount point yet).
        if (Interop.Sys.Mount("", NamedDirectory, "none", Interop.Sys.MS_SHARED | Interop.Sys.MS_REC, IntPtr.Zero) == 0)
        {
            return;
        }

        if (Errno.Last != Errno.EINVAL)
        {
            throw KernelException.Last($"make {NamedDirectory} a shared mount");
        }

        if (Interop.Sys.Mount(NamedDirectory, NamedDirectory, "none", Interop.Sys.MS_BIND | Interop.Sys.MS_REC, IntPtr.Zero) != 0
            || Interop.Sys.Mount("", NamedDirectory, "none", Interop.Sys.MS_SHARED | Interop.Sys.MS_REC, IntPtr.Zero) != 0)
        {
            throw KernelException.Last($"make {NamedDirectory} a shared mount");
        }
    }
}
