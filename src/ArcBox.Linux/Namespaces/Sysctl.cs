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
        var path = PathOf(key);
        Write(
            inside is null
                ? Interop.Sys.Open(path, Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC)
                : inside.Run(() => Interop.Sys.Open(path, Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC), $"open {path}"),
            key,
            value);
    }

    public static string Get(string key) => File.ReadAllText(PathOf(key)).Trim();

    internal static string PathOf(string key) => "/proc/sys/" + key.Replace('.', '/');

    /// <summary>Writes a sysctl file opened (in whichever namespace) by <paramref name="fd"/>, and closes it.</summary>
    internal static unsafe void Write(int fd, string key, string value)
    {
        if (fd < 0)
        {
            throw KernelException.Last($"set sysctl {key}={value}");
        }

        using var handle = new SafeHandles.SafeFdHandle(fd);
        var bytes = Encoding.ASCII.GetBytes(value + "\n");
        fixed (byte* p = bytes)
        {
            if (Interop.Sys.Write(handle.Fd, p, (nuint)bytes.Length) < 0)
            {
                throw KernelException.Last($"set sysctl {key}={value}");
            }
        }
    }
}
