using System.Net;
using ArcBox.Dhcp.Server;
using ArcBox.Dns.Server;
using ArcBox.Netfilter;

namespace ArcBox.Daemon.Config;

/// <summary>The daemon's configuration (arcbox.yaml). Paths come from the command line.</summary>
/// <param name="MetricsListen">Where Prometheus metrics are served over HTTP (GET /metrics); null: off.</param>
/// <param name="LogSize">Flow events kept per sandbox (a ring: the oldest go first).</param>
/// <param name="QemuBinary">The QEMU that `vm run` starts (and the KVM probe runs): a name looked up on PATH or an absolute path.</param>
/// <param name="Uplink">The interface egress leaves through; null: the interface of the default route, found at start.</param>
public sealed record DaemonConfig(
    IPNetwork Subnet4,
    IPNetwork? Subnet6,
    string? Uplink,
    string Prefix,
    string StateDirectory,
    string SocketPath,
    DnsSettings Dns,
    DhcpSettings Dhcp,
    int LogSize = 1000,
    IPEndPoint? MetricsListen = null,
    string QemuBinary = ArcBox.Daemon.Vms.QemuCommand.DefaultBinary)
{
    public const string DefaultConfigPath = "/etc/arcbox/arcbox.yaml";
    public const string DefaultStateDirectory = "/var/lib/arcbox";
    public const string DefaultSocketPath = "/run/arcbox/arcbox.sock";

    public static DaemonConfig Defaults(string stateDirectory, string socketPath) =>
        new(IPNetwork.Parse("10.0.0.0/24"), null, null, NetworkConfig.DefaultPrefix, stateDirectory, socketPath, DnsSettings.Default, DhcpSettings.Default);

    public NetworkConfig Network(string? uplink) => NetworkConfig.Create(Prefix, Subnet4, Subnet6, uplink);

    /// <summary>The dummy link that holds the gateway addresses, so the resolver can bind with no sandbox yet.
    /// '_' keeps it out of the PREFIX-* wildcard that the firewall treats as sandbox links.</summary>
    public string GatewayLink => Prefix + "_gw";

    /// <summary>Named namespaces the daemon creates for netns sandboxes: /run/netns/arcbox-PREFIX-NAME.</summary>
    public string NamespaceName(string sandbox) => $"arcbox-{Prefix}-{sandbox}";

    public string NamespacePrefix => $"arcbox-{Prefix}-";

    public string DatabasePath => Path.Combine(StateDirectory, "arcbox.db");
}
