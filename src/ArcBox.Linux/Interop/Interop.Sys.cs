using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>libc calls. Each returns -1 and sets errno on failure (SetLastError captures it).</summary>
    internal static partial class Sys
    {
        internal const int AF_NETLINK = 16;
        internal const int SOCK_RAW = 3;
        internal const int SOCK_CLOEXEC = 0x80000;
        internal const int NETLINK_ROUTE = 0;
        internal const int NETLINK_NETFILTER = 12;
        internal const int SOL_NETLINK = 270;
        internal const int NETLINK_EXT_ACK = 11;
        internal const int NETLINK_GET_STRICT_CHK = 12;
        internal const int CLONE_NEWNET = 0x40000000;
        internal const int O_RDONLY = 0;
        internal const int O_RDWR = 2;
        internal const int O_CLOEXEC = 0x80000;
        internal const ulong MS_BIND = 4096;
        internal const ulong MS_REC = 16384;
        internal const ulong MS_SHARED = 1 << 20;
        internal const int MNT_DETACH = 2;

        [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
        internal static partial int Socket(int domain, int type, int protocol);

        [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
        internal static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

        [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
        internal static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
        internal static unsafe partial nint Recv(int fd, byte* buffer, nuint length, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
        internal static unsafe partial nint Write(int fd, byte* buffer, nuint length);

        [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        [LibraryImport(Libraries.Libc, EntryPoint = "setns", SetLastError = true)]
        internal static partial int Setns(int fd, int nstype);

        [LibraryImport(Libraries.Libc, EntryPoint = "unshare", SetLastError = true)]
        internal static partial int Unshare(int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Mount(string? source, string target, string? fstype, ulong flags, IntPtr data);

        [LibraryImport(Libraries.Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Umount2(string target, int flags);

        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static unsafe partial int Ioctl(int fd, ulong request, void* argument);

        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(int fd, ulong request, nint argument);

        [LibraryImport(Libraries.Libc, EntryPoint = "gettid")]
        internal static partial int GetTid();

        internal const int PRIO_PROCESS = 0;

        [LibraryImport(Libraries.Libc, EntryPoint = "setpriority", SetLastError = true)]
        internal static partial int SetPriority(int which, int who, int priority);
    }
}
