using ArcBox.Daemon.Config;
using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.Dhcp;
using ArcBox.Daemon.Dns;
using ArcBox.Daemon.Forwards;
using ArcBox.Daemon.Logging;
using ArcBox.Daemon.Policies;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Daemon.Stats;
using ArcBox.Daemon.Vms;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Hosting;

/// <summary>
/// The daemon's parts, wired once: the state, the kernel-side objects, the lifecycle that owns the sandboxes, and
/// each feature's service, which the API endpoints are given one by one. Start reconciles before anything serves.
/// </summary>
public sealed class DaemonServices : IDisposable
{
    private readonly StateStore store;
    private readonly RouteNetlink host;
    private readonly Firewall firewall;
    private readonly ConnectionForgetter forgetter;
    private readonly ChangeGate gate;

    private DaemonServices(DaemonConfig config, NetworkConfig network, StateStore store, RouteNetlink host, ILogger log)
    {
        this.store = store;
        this.host = host;
        Config = config;
        Network = network;
        firewall = new Firewall(network);
        forgetter = new ConnectionForgetter(problem => Log.ReconcileProblem(log, problem));
        gate = new ChangeGate(forgetter);
        Sandboxes = new SandboxLifecycle(config, network, store, firewall, new SandboxWiring(network, host, config.NamespacePrefix), forgetter, gate, log);
        Func<SandboxTable> table = () => Sandboxes.Table;
        Dns = new DnsService(network, config.Dns, firewall, table);
        Dhcp = new DhcpService(network, config.Dhcp, table, log);
        Logs = new LogService(network, config.LogSize, Dns, table, log);
        Forwards = new ForwardService(network, store, firewall, host, gate, table, log);
        Vms = new VmService(config, Dhcp, gate, table, log);
        Stats = new StatsService(network, host, table);
        Policies = new PolicyService(network, host, table);

        // Removal tells them in this order: forwards and the VM go before the sandbox's links do.
        Sandboxes.Observe(Forwards);
        Sandboxes.Observe(Vms);
        Sandboxes.Observe(Dns);
        Sandboxes.Observe(Logs);
    }

    public DaemonConfig Config { get; }

    public NetworkConfig Network { get; }

    public SandboxLifecycle Sandboxes { get; }

    public DnsService Dns { get; }

    public DhcpService Dhcp { get; }

    public LogService Logs { get; }

    public ForwardService Forwards { get; }

    public VmService Vms { get; }

    public StatsService Stats { get; }

    public PolicyService Policies { get; }

    /// <summary>Opens the state, sets up the host, reconciles the kernel with the stored sandboxes, then starts the features.</summary>
    public static DaemonServices Start(DaemonConfig config, ILogger log)
    {
        var store = StateStore.Open(config.DatabasePath);
        RouteNetlink? host = null;
        DaemonServices? services = null;
        try
        {
            host = RouteNetlink.Open();
            CheckNetworkUnchanged(config, store);
            var uplink = config.Uplink ?? host.DefaultRouteLink();
            var network = config.Network(uplink);
            Log.Starting(log, typeof(DaemonServices).Assembly.GetName().Version?.ToString(3) ?? "?", config.Subnet4.ToString(), config.Subnet6 is { } s6 ? $" and {s6}" : "", config.Prefix, uplink ?? "(any non-sandbox link)", config.StateDirectory);
            services = new DaemonServices(config, network, store, host, log);
            HostNetwork.Setup(config, host, log);
            services.Sandboxes.Reconcile();
            services.Dns.Start();
            services.Dhcp.Start();
            services.Logs.Start();
            services.Vms.Start();
            return services;
        }
        catch
        {
            if (services is not null)
            {
                services.Dispose();
            }
            else
            {
                host?.Dispose();
                store.Dispose();
            }

            throw;
        }
    }

    public void Dispose()
    {
        Vms.Dispose();
        Logs.Dispose();
        Dhcp.Dispose();
        Dns.Dispose();
        Forwards.Dispose();
        Stats.Dispose();
        forgetter.Dispose();
        firewall.Dispose();
        host.Dispose();
        store.Dispose();
        gate.Dispose();
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
}
