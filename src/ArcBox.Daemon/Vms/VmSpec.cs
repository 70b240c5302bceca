namespace ArcBox.Daemon.Vms;

/// <summary>A validated request, as launched and as kept beside the VM (vm.json).</summary>
public sealed record VmSpec(string Kernel, string? Initrd, string CommandLine, int MemoryMb, int Cpus, string Accel, string? AccelNote, DateTimeOffset StartedAt, IReadOnlyList<string> Command);
