using ArcBox.Linux.SafeHandles;

namespace ArcBox.Linux.Devices;

/// <summary>
/// Whether KVM can actually run a guest here. /dev/kvm may exist and open (nested virtualisation, a restricted
/// sandbox) and still fail at the first KVM_RUN, so the probe runs one: a real-mode vCPU on a page holding HLT
/// must come back with KVM_EXIT_HLT.
/// </summary>
public static class KvmProbe
{
    // linux/kvm.h: KVMIO 0xAE; _IO(KVMIO, nr), and _IOW/_IOR with the size of the struct in bits 16-29.
    private const ulong KVM_GET_API_VERSION = 0xAE00;
    private const ulong KVM_CREATE_VM = 0xAE01;
    private const ulong KVM_GET_VCPU_MMAP_SIZE = 0xAE04;
    private const ulong KVM_CREATE_VCPU = 0xAE41;
    private const ulong KVM_SET_USER_MEMORY_REGION = 0x4020AE46; // struct kvm_userspace_memory_region, 32 bytes
    private const ulong KVM_RUN = 0xAE80;
    private const ulong KVM_SET_REGS = 0x4090AE82;               // struct kvm_regs, 144 bytes
    private const ulong KVM_GET_SREGS = 0x8138AE83;              // struct kvm_sregs, 312 bytes
    private const ulong KVM_SET_SREGS = 0x4138AE84;
    private const int KvmApiVersion = 12;
    private const uint KvmExitHlt = 5;
    private const ulong GuestAddress = 0x1000;
    private const int PageSize = 4096;

    /// <summary>Null when KVM runs a guest; otherwise why not, naming the step that failed.</summary>
    public static string? WhyNot(string device = "/dev/kvm", TimeSpan? timeout = null)
    {
        if (!File.Exists(device))
        {
            return $"{device} does not exist";
        }

        // A KVM_RUN that never returns must not hang the caller: the probe runs on its own thread.
        string? result = "the probe did not finish";
        var thread = new Thread(() => result = Run(device)) { IsBackground = true, Name = "arcbox-kvm-probe" };
        thread.Start();
        return thread.Join(timeout ?? TimeSpan.FromSeconds(2)) ? result : $"KVM_RUN did not return within {(timeout ?? TimeSpan.FromSeconds(2)).TotalSeconds:0.#} s";
    }

    private static unsafe string? Run(string device)
    {
        var kvmFd = Interop.Sys.Open(device, Interop.Sys.O_RDWR | Interop.Sys.O_CLOEXEC);
        if (kvmFd < 0)
        {
            return KernelException.Last($"open {device}").Message;
        }

        using var kvm = new SafeFdHandle(kvmFd);
        var version = Interop.Sys.Ioctl(kvmFd, KVM_GET_API_VERSION, 0);
        if (version != KvmApiVersion)
        {
            return version < 0 ? KernelException.Last("KVM_GET_API_VERSION").Message : $"KVM API version {version}, not {KvmApiVersion}";
        }

        var vmFd = Interop.Sys.Ioctl(kvmFd, KVM_CREATE_VM, 0);
        if (vmFd < 0)
        {
            return KernelException.Last("KVM_CREATE_VM").Message;
        }

        using var vm = new SafeFdHandle(vmFd);
        var memory = Interop.Sys.Mmap(0, PageSize, Interop.Sys.PROT_READ | Interop.Sys.PROT_WRITE, Interop.Sys.MAP_PRIVATE | Interop.Sys.MAP_ANONYMOUS, -1, 0);
        if (memory == -1)
        {
            return KernelException.Last("mmap guest memory").Message;
        }

        try
        {
            *(byte*)memory = 0xF4; // HLT
            var region = stackalloc ulong[4];
            region[0] = 0;                  // slot 0, flags 0
            region[1] = GuestAddress;       // guest_phys_addr
            region[2] = PageSize;           // memory_size
            region[3] = (ulong)memory;      // userspace_addr
            if (Interop.Sys.Ioctl(vmFd, KVM_SET_USER_MEMORY_REGION, region) != 0)
            {
                return KernelException.Last("KVM_SET_USER_MEMORY_REGION").Message;
            }

            return RunVcpu(kvmFd, vmFd);
        }
        finally
        {
            Interop.Sys.Munmap(memory, PageSize);
        }
    }

    private static unsafe string? RunVcpu(int kvmFd, int vmFd)
    {
        var vcpuFd = Interop.Sys.Ioctl(vmFd, KVM_CREATE_VCPU, 0);
        if (vcpuFd < 0)
        {
            return KernelException.Last("KVM_CREATE_VCPU").Message;
        }

        using var vcpu = new SafeFdHandle(vcpuFd);
        var runSize = Interop.Sys.Ioctl(kvmFd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (runSize <= 0)
        {
            return KernelException.Last("KVM_GET_VCPU_MMAP_SIZE").Message;
        }

        var run = Interop.Sys.Mmap(0, (nuint)runSize, Interop.Sys.PROT_READ | Interop.Sys.PROT_WRITE, Interop.Sys.MAP_SHARED, vcpuFd, 0);
        if (run == -1)
        {
            return KernelException.Last("mmap kvm_run").Message;
        }

        try
        {
            // Real mode, CS base 0 (struct kvm_segment: base at 0, selector at 12), RIP at the HLT.
            var sregs = stackalloc byte[312];
            if (Interop.Sys.Ioctl(vcpuFd, KVM_GET_SREGS, sregs) != 0)
            {
                return KernelException.Last("KVM_GET_SREGS").Message;
            }

            *(ulong*)sregs = 0;
            *(ushort*)(sregs + 12) = 0;
            if (Interop.Sys.Ioctl(vcpuFd, KVM_SET_SREGS, sregs) != 0)
            {
                return KernelException.Last("KVM_SET_SREGS").Message;
            }

            // struct kvm_regs: 16 general registers, then rip (byte 128) and rflags (byte 136; bit 1 always set).
            var regs = stackalloc byte[144];
            new Span<byte>(regs, 144).Clear();
            *(ulong*)(regs + 128) = GuestAddress;
            *(ulong*)(regs + 136) = 2;
            if (Interop.Sys.Ioctl(vcpuFd, KVM_SET_REGS, regs) != 0)
            {
                return KernelException.Last("KVM_SET_REGS").Message;
            }

            if (Interop.Sys.Ioctl(vcpuFd, KVM_RUN, 0) != 0)
            {
                return KernelException.Last("KVM_RUN").Message;
            }

            // struct kvm_run: request_interrupt_window, immediate_exit, padding[6], then exit_reason (u32) at byte 8.
            var exit = *(uint*)(run + 8);
            return exit == KvmExitHlt ? null : $"KVM_RUN ended with exit reason {exit}, not HLT ({KvmExitHlt})";
        }
        finally
        {
            Interop.Sys.Munmap(run, (nuint)runSize);
        }
    }
}
