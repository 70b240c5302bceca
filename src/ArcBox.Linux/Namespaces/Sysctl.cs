using System.Text;

namespace ArcBox.Linux.Namespaces;

/// <summary>
/// /proc/sys/net belongs to the network namespace of the task that opens the file: to set a sysctl of another
/// namespace the file is opened on the namespace thread, then written from here.
/// </summary>
public static class Sysctl
{
    public static void Set(string key, string value, NetworkNamespace? inside = null)
    {
        var path = "/proc/sys/" + key.Replace('.', '/');
        var fd = inside is null
            ? Interop.Sys.Open(path, Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC)
            : inside.Run(() => Interop.Sys.Open(path, Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC), $"open {path}");
        if (fd < 0)
        {
            throw KernelException.Last($"set sysctl {key}={value}");
        }

        using var handle = new SafeHandles.SafeFdHandle(fd);
        Write(handle, Encoding.ASCII.GetBytes(value + "\n"), $"set sysctl {key}={value}");
    }

    private static unsafe void Write(SafeHandles.SafeFdHandle handle, byte[] bytes, string operation)
    {
        fixed (byte* p = bytes)
        {
            if (Interop.Sys.Write(handle.Fd, p, (nuint)bytes.Length) < 0)
            {
                throw KernelException.Last(operation);
            }
        }
    }

    public static string Get(string key) => File.ReadAllText("/proc/sys/" + key.Replace('.', '/')).Trim();
}
