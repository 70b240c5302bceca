using ArcBox.Daemon.State;
using ArcBox.Daemon.Vms;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    private VmHost? vmHost;

    private Timer? consoleWatch;

    private VmHost VmHost => vmHost ??= new VmHost(config.StateDirectory, config.QemuBinary, log);

    /// <summary>Every 5 s, empties console logs that grew over <see cref="VmConsole.MaxBytes"/>.</summary>
    private void StartConsoleWatch() => consoleWatch = new Timer(_ => CapConsoles(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    private void CapConsoles()
    {
        foreach (var r in records.Values.Where(r => r.IsTap))
        {
            try
            {
                if (VmHost.Status(r.Name) is { State: "running" } vm && VmConsole.Cap(vm.Console))
                {
                    Hosting.Log.VmConsoleCapped(log, r.Name, VmConsole.MaxBytes >> 20);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Hosting.Log.VmConsoleCapped(log, r.Name, -1);
            }
        }
    }

    /// <summary>Boots a microVM on a TAP sandbox; returns once QEMU runs (the guest is booting).</summary>
    public Task<VmStatus> StartVmAsync(string name, VmRequest request, CancellationToken cancellationToken = default) =>
        Exclusive(
            () =>
            {
                var r = Get(name);
                var spec = VmHost.Start(r, LeaseOf(r), request);
                var status = VmHost.Status(name) ?? throw new RequestException(ErrorCode.Failure, $"QEMU for '{name}' started but left no state in {VmHost.PathsOf(name).Directory}");
                Hosting.Log.VmStarted(log, name, status.Pid ?? 0, spec.Accel, spec.AccelNote ?? "");
                return status;
            },
            cancellationToken);

    public VmStatus? VmOf(string name) => VmOf(Get(name));

    /// <summary>The VM of a record already in hand (no lookup: the sandbox may be going away meanwhile).</summary>
    public VmStatus? VmOf(SandboxRecord r) => r.IsTap ? VmHost.Status(r.Name) : null;

    public IReadOnlyList<VmStatus> Vms() =>
        [.. records.Values.Where(r => r.IsTap).OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => VmHost.Status(r.Name)).OfType<VmStatus>()];

    /// <summary>Stops a sandbox's VM (power-down within <paramref name="grace"/>, then quit, then kill). Not under the
    /// change lock: a guest that takes its time to power off must not hold up other requests.</summary>
    public async Task<string?> StopVmAsync(string name, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        Get(name);
        var how = await VmHost.StopAsync(name, grace, cancellationToken);
        if (how is not null)
        {
            Hosting.Log.VmStopped(log, name, how);
        }

        return how;
    }

    /// <summary>Before a TAP sandbox goes: its VM ends (at once: the sandbox is being removed) and its runtime files go.</summary>
    private void EndVm(SandboxRecord r, List<string> problems)
    {
        if (!r.IsTap)
        {
            return;
        }

        try
        {
            if (VmHost.StopAsync(r.Name, TimeSpan.Zero, CancellationToken.None).GetAwaiter().GetResult() is { } how)
            {
                Hosting.Log.VmStopped(log, r.Name, how);
            }

            VmHost.Forget(r.Name);
        }
        catch (Exception ex) when (ex is RequestException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"stop VM: {ex.Message}");
        }
    }
}
