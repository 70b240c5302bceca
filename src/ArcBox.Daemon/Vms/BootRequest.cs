namespace ArcBox.Daemon.Vms;

/// <summary>A VM request after validation: absolute paths that exist, sizes in range.</summary>
internal sealed record BootRequest(string Kernel, string? Initrd, string? Append, int MemoryMb, int Cpus);
