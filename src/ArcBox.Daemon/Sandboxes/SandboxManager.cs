using System.Collections.Immutable;
using ArcBox.Daemon.Config;
using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.State;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// Owns the sandboxes: validates requests, allocates addresses, stores desired state and drives the kernel.
/// Changes are serialised; reads see an immutable snapshot. Nothing is applied before it is validated, and
/// nothing is stored as applied before the kernel accepted it.
/// </summary>
public sealed partial class SandboxManager : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly DaemonConfig config;
    private readonly NetworkConfig network;
    private readonly StateStore store;
    private readonly Firewall firewall;
    private readonly RouteNetlink host;
    private readonly SandboxWiring wiring;
    private readonly ConnectionForgetter forgetter;
    private readonly ILogger log;
    private ImmutableDictionary<string, SandboxRecord> records = ImmutableDictionary<string, SandboxRecord>.Empty;

    // Who has which host interface and which IPv4 address: a create checks both, and a walk over 1,000 records
    // took a millisecond of it. Changed only with records, through Keep, Drop and KeepAll.
    private ImmutableDictionary<string, string> interfaces = ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableDictionary<System.Net.IPAddress, string> addresses = ImmutableDictionary<System.Net.IPAddress, string>.Empty;
    private ImmutableDictionary<string, SandboxPolicy> policies = ImmutableDictionary<string, SandboxPolicy>.Empty;

    private SandboxManager(DaemonConfig config, NetworkConfig network, StateStore store, RouteNetlink host, ILogger log)
    {
        this.config = config;
        this.network = network;
        this.store = store;
        this.host = host;
        this.log = log;
        firewall = new Firewall(network);
        wiring = new SandboxWiring(network, host);
        forgetter = new ConnectionForgetter(problem => Hosting.Log.ReconcileProblem(log, problem));
    }

    public NetworkConfig Network => network;

    public DaemonConfig Config => config;

    /// <summary>Opens the state, sets up the host and reconciles the kernel with the stored sandboxes.</summary>
    public static SandboxManager Start(DaemonConfig config, ILogger log)
    {
        var store = StateStore.Open(config.DatabasePath);
        var host = RouteNetlink.Open();
        try
        {
            CheckNetworkUnchanged(config, store);
            var uplink = config.Uplink ?? host.DefaultRouteLink();
            var network = config.Network(uplink);
            Hosting.Log.Starting(log, typeof(SandboxManager).Assembly.GetName().Version?.ToString(3) ?? "?", config.Subnet4.ToString(), config.Subnet6 is { } s6 ? $" and {s6}" : "", config.Prefix, uplink ?? "(any non-sandbox link)", config.StateDirectory);
            var manager = new SandboxManager(config, network, store, host, log);
            HostNetwork.Setup(config, host, log);
            manager.Reconcile();
            manager.StartResolver();
            manager.StartDhcp();
            manager.StartFlowLog();
            manager.StartConsoleWatch();
            return manager;
        }
        catch
        {
            host.Dispose();
            store.Dispose();
            throw;
        }
    }

    public IReadOnlyCollection<SandboxRecord> List() => records.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList();

    public SandboxRecord Get(string name) =>
        records.TryGetValue(name, out var r) ? r : throw new RequestException(ErrorCode.NotFound, $"no sandbox named '{name}'");

    /// <summary>The evaluator's view of the live network: subnets, the host's addresses and every sandbox.</summary>
    public NetworkView View()
    {
        var view = network.ToView() with { HostAddresses = [.. HostNetwork.Addresses(host)] };
        foreach (var r in records.Values)
        {
            view = view.WithSandbox(r.Name, new SandboxAddresses(r.Ipv4, r.Ipv6));
        }

        return view;
    }

    public Decision Explain(string name, Flow flow)
    {
        var r = Get(name);
        return PolicyEvaluator.Evaluate(policies[name], new SandboxAddresses(r.Ipv4, r.Ipv6), View(), flow);
    }

    public Firewall Firewall => firewall;

    public void Dispose()
    {
        resolver?.Dispose();
        dhcp?.Dispose();
        flowLog?.Dispose();
        consoleWatch?.Dispose();
        foreach (var relay in relays.Values)
        {
            relay.Dispose();
        }

        forgetter.Dispose();
        firewall.Dispose();
        if (counterReader.IsValueCreated)
        {
            counterReader.Value.Dispose();
        }

        host.Dispose();
        store.Dispose();
        gate.Dispose();
    }

    /// <summary>
    /// Forgets the sandbox's tracked connections, so that the rules in force judge their next packet. It happens
    /// within <see cref="ConnectionForgetter.MaxDelay"/> of the request, on the forgetter's thread: the caller need
    /// not wait for a walk of the conntrack table.
    /// </summary>
    private void ForgetConnections(SandboxRecord r) => forgetter.Forget(r.Name, r.Ipv6 is null ? [r.Ipv4] : [r.Ipv4, r.Ipv6]);

    /// <summary>Stores <paramref name="r"/> as the sandbox's current record (its interface and address never change).</summary>
    private void Keep(SandboxRecord r)
    {
        records = records.SetItem(r.Name, r);
        interfaces = interfaces.SetItem(r.Interface, r.Name);
        addresses = addresses.SetItem(r.Ipv4, r.Name);
    }

    private void Drop(SandboxRecord r)
    {
        records = records.Remove(r.Name);
        interfaces = interfaces.Remove(r.Interface);
        addresses = addresses.Remove(r.Ipv4);
    }

    private void KeepAll(IEnumerable<SandboxRecord> all)
    {
        var list = all.ToList();
        records = list.ToImmutableDictionary(r => r.Name, StringComparer.Ordinal);
        interfaces = list.ToImmutableDictionary(r => r.Interface, r => r.Name, StringComparer.Ordinal);
        addresses = list.ToImmutableDictionary(r => r.Ipv4, r => r.Name);
    }

    private static void CheckNetworkUnchanged(DaemonConfig config, StateStore store)
    {
        var fingerprint = $"{config.Subnet4}|{config.Subnet6}|{config.Prefix}";
        var stored = store.GetMeta("network");
        if (stored is not null && stored != fingerprint && store.All().Count > 0)
        {
            throw new InvalidOperationException(
                $"the state in {config.StateDirectory} belongs to network '{stored}' (subnet|subnet6|prefix), not '{fingerprint}': remove its sandboxes first or use another --state-dir");
        }

        store.SetMeta("network", fingerprint);
    }

    private async Task<T> Exclusive<T>(Func<T> action, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        forgetter.RequestStarted();
        try
        {
            return action();
        }
        finally
        {
            forgetter.RequestEnded();
            gate.Release();
        }
    }
}
