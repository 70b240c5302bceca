namespace ArcBox.Daemon.Vms;

/// <summary>A sandbox's VM as the API shows it.</summary>
/// <param name="State">"running" or "stopped" (QEMU exited: the guest powered off or rebooted, or it was stopped).</param>
public sealed record VmStatus(string Sandbox, string State, int? Pid, string Console, VmSpec Spec);
