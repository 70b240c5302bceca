namespace ArcBox.Testing;

/// <summary>
/// The guest the VM tests boot, built once per run by tests/vm/build-image.sh into .build/vm-image (cached by the
/// packages and sources it is made from). Tests skip with the reason only when QEMU or /dev/net/tun is absent;
/// a failing build is a failure, not a skip.
/// </summary>
public sealed class VmImage
{
    private static readonly Lazy<VmImage> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    private VmImage(string? whyNot, string directory)
    {
        WhyNot = whyNot;
        Directory = directory;
    }

    public static string? Unavailable => Built.Value.WhyNot;

    public static VmImage Instance => Built.Value.WhyNot is null ? Built.Value : throw new InvalidOperationException(Built.Value.WhyNot);

    public string? WhyNot { get; }

    public string Directory { get; }

    public string Kernel => Path.Combine(Directory, "vmlinuz");

    public string Initrd => Path.Combine(Directory, "initrd.img");

    /// <summary>The guest's static busybox, also usable on the host (DHCP client, cpio).</summary>
    public string Busybox => Path.Combine(Directory, "busybox");

    /// <summary>The base initramfs with /probe.sh appended as a second archive (the kernel unpacks both).</summary>
    public string InitrdWith(string probeScript, string directory)
    {
        var work = System.IO.Directory.CreateDirectory(Path.Combine(directory, "probe-" + Guid.NewGuid().ToString("n")[..8])).FullName;
        File.WriteAllText(Path.Combine(work, "probe.sh"), probeScript.ReplaceLineEndings("\n"));
        var initrd = Path.Combine(work, "initrd.img");
        ProcessRunner.Run("sh", ["-c", $"cd '{work}' && echo probe.sh | '{Busybox}' cpio -o -H newc | gzip -1 > probe.cpio.gz && cat '{Initrd}' probe.cpio.gz > initrd.img"])
            .EnsureSuccess("pack the probe script");
        return initrd;
    }

    private static VmImage Build()
    {
        var directory = Path.Combine(RepoPaths.Root, ".build", "vm-image");
        var why = Root.WhyNot("ip", "nft", "nsenter", "qemu-system-x86_64", "socat", "iperf3", "apt-get");
        if (why is null && !File.Exists("/dev/net/tun"))
        {
            why = "needs /dev/net/tun (TAP devices)";
        }

        if (why is not null)
        {
            return new VmImage(why, directory);
        }

        ProcessRunner.Run("bash", [Path.Combine(RepoPaths.Root, "tests", "vm", "build-image.sh"), directory], timeoutMs: 600_000)
            .EnsureSuccess("tests/vm/build-image.sh");
        return new VmImage(null, directory);
    }
}
