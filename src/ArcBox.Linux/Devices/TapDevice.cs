using System.Text;
using ArcBox.Linux.SafeHandles;

namespace ArcBox.Linux.Devices;

/// <summary>Persistent TAP devices for VMMs (QEMU, Firecracker, Cloud Hypervisor open them by name as virtio-net).</summary>
public static class TapDevice
{
    // linux/if_tun.h: _IOW('T', 202..206, int); struct ifreq is 40 bytes: char name[16], then a union (flags: short).
    private const ulong TUNSETIFF = 0x400454ca;
    private const ulong TUNSETPERSIST = 0x400454cb;
    private const ulong TUNSETOWNER = 0x400454cc;
    private const ulong TUNSETGROUP = 0x400454ce;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;
    private const short IFF_VNET_HDR = 0x4000;

    /// <summary>Creates a persistent TAP with vnet headers, owned by <paramref name="uid"/>/<paramref name="gid"/> when given.</summary>
    public static unsafe void CreatePersistent(string name, uint? uid, uint? gid)
    {
        var fd = Interop.Sys.Open("/dev/net/tun", Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC);
        if (fd < 0)
        {
            throw KernelException.Last($"open /dev/net/tun for tap {name}");
        }

        using var handle = new SafeFdHandle(fd);
        var ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        var nameBytes = Encoding.ASCII.GetBytes(name);
        nameBytes.CopyTo(new Span<byte>(ifr, 15));
        *(short*)(ifr + 16) = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if (Interop.Sys.Ioctl(fd, TUNSETIFF, ifr) != 0)
        {
            throw KernelException.Last($"add tap {name}");
        }

        if (uid is { } u && Interop.Sys.Ioctl(fd, TUNSETOWNER, (nint)u) != 0)
        {
            throw KernelException.Last($"set owner {u} of tap {name}");
        }

        if (gid is { } g && Interop.Sys.Ioctl(fd, TUNSETGROUP, (nint)g) != 0)
        {
            throw KernelException.Last($"set group {g} of tap {name}");
        }

        if (Interop.Sys.Ioctl(fd, TUNSETPERSIST, 1) != 0)
        {
            throw KernelException.Last($"make tap {name} persistent");
        }
    }
}
