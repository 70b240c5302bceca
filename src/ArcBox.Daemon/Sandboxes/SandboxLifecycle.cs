using ArcBox.Daemon.Config;
using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.State;
using ArcBox.Netfilter;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// Creates, removes and re-polices sandboxes, and makes the kernel match the state at start: the only writer of
/// the <see cref="SandboxTable"/>, the state store's sandboxes, the firewall's sandbox rules and the links. Changes
/// run one at a time under the <see cref="ChangeGate"/>; nothing is applied before it is validated, nothing is
/// stored as applied before the kernel accepted it, and a table is published only once the change is complete.
/// Features follow through <see cref="ISandboxObserver"/>.
/// </summary>
public sealed partial class SandboxLifecycle
{
    private readonly DaemonConfig config;
    private readonly NetworkConfig network;
    private readonly StateStore store;
    private readonly IFirewall firewall;
    private readonly ISandboxWiring wiring;
    private readonly IConnectionForgetter forgetter;
    private readonly ChangeGate gate;
    private readonly ILogger log;
    private readonly List<ISandboxObserver> observers = [];
    private SandboxTable table = SandboxTable.Empty;

    public SandboxLifecycle(DaemonConfig config, NetworkConfig network, StateStore store, IFirewall firewall, ISandboxWiring wiring, IConnectionForgetter forgetter, ChangeGate gate, ILogger log)
    {
        this.config = config;
        this.network = network;
        this.store = store;
        this.firewall = firewall;
        this.wiring = wiring;
        this.forgetter = forgetter;
        this.gate = gate;
        this.log = log;
    }

    /// <summary>The sandboxes now: a snapshot that never changes under its reader.</summary>
    public SandboxTable Table => Volatile.Read(ref table);

    public NetworkConfig Network => network;

    /// <summary>Adds a feature that follows the sandboxes; before <see cref="Reconcile"/>, at start.</summary>
    public void Observe(ISandboxObserver observer) => observers.Add(observer);

    private void Publish(SandboxTable next) => Volatile.Write(ref table, next);

    /// <summary>A write to the state that must succeed before the kernel is touched: a full disk (or a damaged file)
    /// is a clear failure of the request, and nothing has changed.</summary>
    private static void Store(Action write, string what)
    {
        try
        {
            write();
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new RequestException(ErrorCode.Failure, $"{what}: cannot write the state ({ex.Message}); nothing changed", inner: ex);
        }
    }

    /// <summary>Tells every observer; one that fails is logged (and reported to <paramref name="problems"/>) and the rest go on.</summary>
    private void Notify(string sandbox, string change, Action<ISandboxObserver> call, List<string>? problems = null)
    {
        foreach (var observer in observers)
        {
            try
            {
                call(observer);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var feature = observer.GetType().Name;
                Hosting.Log.ObserverFailed(log, sandbox, feature, change, ex.Message);
                problems?.Add($"{feature}: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Forgets the sandbox's tracked connections, so that the rules in force judge their next packet. It happens
    /// within <see cref="ConnectionForgetter.MaxDelay"/> of the request, on the forgetter's thread: the caller need
    /// not wait for a walk of the conntrack table.
    /// </summary>
    private void ForgetConnections(SandboxRecord r) => forgetter.Forget(r.Name, r.Ipv6 is null ? [r.Ipv4] : [r.Ipv4, r.Ipv6]);
}
