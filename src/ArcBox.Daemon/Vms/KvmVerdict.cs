namespace ArcBox.Daemon.Vms;

/// <summary>What the KVM probe found: whether QEMU runs guests under KVM here, and the reason in words.</summary>
public sealed record KvmVerdict(bool Usable, string Reason, TimeSpan Took);
