using ArcBox.Daemon.Config;
using ArcBox.Daemon.Dhcp;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Vms;

/// <summary>
/// microVMs on TAP sandboxes: QEMU started and stopped on request, its console capped, and a sandbox's VM ended
/// before the sandbox goes.
/// </summary>
public sealed class VmService(DaemonConfig config, DhcpService dhcp, ChangeGate gate, Func<SandboxTable> table, ILogger log) : ISandboxObserver, IDisposable
{
    private readonly Lazy<VmHost> host = new(() => new VmHost(config.StateDirectory, config.QemuBinary, log));
    private Timer? consoleWatch;

    private VmHost Host => host.Value;

    /// <summary>Every 5 s, empties console logs that grew over <see cref="VmConsole.MaxBytes"/>.</summary>
    public void Start() => consoleWatch = new Timer(_ => CapConsoles(), null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    /// <summary>Boots a microVM on a TAP sandbox; returns once QEMU runs (the guest is booting).</summary>
    public Task<VmStatus> StartAsync(string name, VmRequest request, CancellationToken cancellationToken = default) =>
        gate.RunAsync(
            () =>
            {
                var r = table().Get(name).Record;
                var spec = Host.Start(r, dhcp.LeaseOf(r), request);
                var status = Host.Status(name) ?? throw new RequestException(ErrorCode.Failure, $"QEMU for '{name}' started but left no state in {Host.PathsOf(name).Directory}");
                Hosting.Log.VmStarted(log, name, status.Pid ?? 0, spec.Accel, spec.AccelNote ?? "");
                return status;
            },
            cancellationToken);

    public VmStatus? Of(string name) => Of(table().Get(name).Record);

    /// <summary>The VM of a record already in hand (no lookup: the sandbox may be going away meanwhile).</summary>
    public VmStatus? Of(SandboxRecord r) => r.IsTap ? Host.Status(r.Name) : null;

    public IReadOnlyList<VmStatus> All() =>
        [.. table().All().Where(s => s.Record.IsTap).Select(s => Host.Status(s.Name)).OfType<VmStatus>()];

    /// <summary>Stops a sandbox's VM (power-down within <paramref name="grace"/>, then quit, then kill). Not under the
    /// change lock: a guest that takes its time to power off must not hold up other requests.</summary>
    public async Task<string?> StopAsync(string name, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        table().Get(name);
        var how = await Host.StopAsync(name, grace, cancellationToken);
        if (how is not null)
        {
            Hosting.Log.VmStopped(log, name, how);
        }

        return how;
    }

    public Task BeforeRemoveAsync(Sandbox sandbox, CancellationToken cancellationToken) =>
        sandbox.Record.IsTap ? StopAsync(sandbox.Name, TimeSpan.Zero, cancellationToken) : Task.CompletedTask;

    /// <summary>Before a TAP sandbox goes: its VM ends (at once: the sandbox is being removed) and its runtime files go.</summary>
    public void Removing(Sandbox sandbox, ICollection<string> problems)
    {
        var r = sandbox.Record;
        if (!r.IsTap)
        {
            return;
        }

        try
        {
            if (Host.StopAsync(r.Name, TimeSpan.Zero, CancellationToken.None).GetAwaiter().GetResult() is { } how)
            {
                Hosting.Log.VmStopped(log, r.Name, how);
            }

            Host.Forget(r.Name);
        }
        catch (Exception ex) when (ex is RequestException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"stop VM: {ex.Message}");
        }
    }

    public void Dispose() => consoleWatch?.Dispose();

    private void CapConsoles()
    {
        foreach (var s in table().All().Where(s => s.Record.IsTap))
        {
            try
            {
                if (Host.Status(s.Name) is { State: "running" } vm && VmConsole.Cap(vm.Console))
                {
                    Hosting.Log.VmConsoleCapped(log, s.Name, VmConsole.MaxBytes >> 20);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Hosting.Log.VmConsoleCapped(log, s.Name, -1);
            }
        }
    }
}
