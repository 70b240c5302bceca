using System.Runtime.InteropServices;

namespace ArcBox.Linux.SafeHandles;

/// <summary>A file descriptor we opened (namespace, netlink socket, /dev/net/tun). Keeps its namespace for life.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => Interop.Sys.Close((int)handle) == 0;
}
