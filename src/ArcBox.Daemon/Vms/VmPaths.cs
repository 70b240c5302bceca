namespace ArcBox.Daemon.Vms;

/// <summary>Where one sandbox's VM keeps its runtime files: STATE/vms/NAME/.</summary>
public sealed record VmPaths(string Directory)
{
    public static VmPaths For(string stateDirectory, string sandbox) => new(Path.Combine(stateDirectory, "vms", sandbox));

    public string Pid => Path.Combine(Directory, "qemu.pid");

    /// <summary>QMP, the control socket: stop and quit go through it.</summary>
    public string Qmp => Path.Combine(Directory, "qmp.sock");

    /// <summary>The serial console (ttyS0), written by QEMU.</summary>
    public string Console => Path.Combine(Directory, "console.log");

    public string Spec => Path.Combine(Directory, "vm.json");
}
