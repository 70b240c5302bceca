namespace ArcBox.Daemon.Vms;

/// <summary>Boot a microVM on a TAP sandbox (POST /v1/sandboxes/NAME/vm). Paths are absolute, as the daemon sees them.</summary>
/// <param name="Append">Extra kernel arguments; ArcBox adds the console, reboot and ip= arguments unless they are given.</param>
/// <param name="Accel">"auto" (default: kvm only where it runs a guest, else tcg), "kvm" or "tcg".</param>
public sealed record VmRequest(string? Kernel, string? Initrd, string? Append, int? MemoryMb, int? Cpus, string? Accel);
