using System.Net;
using System.Net.Sockets;
using ArcBox.Netfilter;
using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Parsing;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Daemon.Config;

/// <summary>Reads arcbox.yaml; unknown keys and bad values are reported as file:line:column diagnostics.</summary>
public sealed class ConfigReader : YamlReader
{
    private static readonly string[] Keys = ["subnet", "subnet6", "uplink", "prefix", "dns", "dhcp", "logs", "metrics", "vm"];
    private static readonly string[] DhcpKeys = ["enabled", "lease_seconds"];
    private static readonly string[] DnsKeys = ["upstream", "min_ttl", "max_ttl", "queries_per_second", "log_size", "timeout_ms"];

    private ConfigReader(string file)
        : base(file)
    {
    }

    /// <summary>The config, or null with every problem. A missing file at the default path means all defaults.</summary>
    public static (DaemonConfig? Config, IReadOnlyList<Diagnostic> Diagnostics) Load(string? path, string stateDirectory, string socketPath)
    {
        var defaults = DaemonConfig.Defaults(stateDirectory, socketPath);
        var file = path ?? DaemonConfig.DefaultConfigPath;
        if (!File.Exists(file))
        {
            return path is null
                ? (defaults, [])
                : (null, [new Diagnostic(Severity.Error, new(file, 1, 1), "config file not found")]);
        }

        var (root, error) = YamlLoader.Load(File.ReadAllText(file), file, "empty config");
        if (root is null)
        {
            // An empty file is a valid "all defaults" config.
            return error!.Message == "empty config" ? (defaults, []) : (null, [error]);
        }

        var reader = new ConfigReader(file);
        var config = reader.Read(root, defaults);
        return (config, reader.Diagnostics);
    }

    private DaemonConfig? Read(YamlNode root, DaemonConfig defaults)
    {
        var map = Mapping(root, "the config", Keys);
        if (map is null)
        {
            return null;
        }

        var config = defaults;
        if (map.TryGetValue("subnet", out var s) && Network(s.Value, "subnet", AddressFamily.InterNetwork, 30) is { } subnet4)
        {
            config = config with { Subnet4 = subnet4 };
        }

        if (map.TryGetValue("subnet6", out var s6) && Network(s6.Value, "subnet6", AddressFamily.InterNetworkV6, 120) is { } subnet6)
        {
            config = config with { Subnet6 = subnet6 };
        }

        if (map.TryGetValue("uplink", out var u) && Scalar(u.Value, "'uplink'") is { } uplink)
        {
            if (uplink.Length is 0 or > 15 || uplink.Any(c => char.IsWhiteSpace(c) || c == '/'))
            {
                Error(u.Value, $"invalid interface name '{uplink}'");
            }

            config = config with { Uplink = uplink };
        }

        if (map.TryGetValue("prefix", out var p) && Scalar(p.Value, "'prefix'") is { } prefix)
        {
            if (NetworkConfig.ValidatePrefix(prefix) is { } problem)
            {
                Error(p.Value, problem);
            }

            config = config with { Prefix = prefix };
        }

        if (map.TryGetValue("dns", out var d) && !YamlLoader.IsNull(d.Value))
        {
            config = config with { Dns = ReadDns(d.Value, config.Dns) };
        }

        if (map.TryGetValue("dhcp", out var h) && !YamlLoader.IsNull(h.Value))
        {
            config = config with { Dhcp = ReadDhcp(h.Value, config.Dhcp) };
        }

        if (map.TryGetValue("metrics", out var m) && !YamlLoader.IsNull(m.Value) && Mapping(m.Value, "'metrics'", ["listen"]) is { } metrics
            && metrics.TryGetValue("listen", out var listen))
        {
            if (Scalar(listen.Value, "'metrics.listen'") is { } text)
            {
                if (Addresses.TryParseEndpoint(text, 9464, out var endpoint, out var error))
                {
                    config = config with { MetricsListen = endpoint };
                }
                else
                {
                    Error(listen.Value, $"'metrics.listen': {error}");
                }
            }
        }

        if (map.TryGetValue("logs", out var l) && !YamlLoader.IsNull(l.Value) && Mapping(l.Value, "'logs'", ["size"]) is { } logs)
        {
            config = config with { LogSize = Number(logs, "logs", "size", config.LogSize, 10, 1_000_000) };
        }

        if (map.TryGetValue("vm", out var v) && !YamlLoader.IsNull(v.Value) && Mapping(v.Value, "'vm'", ["qemu"]) is { } vm
            && vm.TryGetValue("qemu", out var qemu) && Scalar(qemu.Value, "'vm.qemu'") is { } binary)
        {
            if (!Path.IsPathFullyQualified(binary) || binary.Any(char.IsControl))
            {
                Error(qemu.Value, $"'vm.qemu' must be an absolute path to a QEMU binary, not '{binary}'");
            }

            config = config with { QemuBinary = binary };
        }

        return HasErrors ? null : config;
    }

    private ArcBox.Dhcp.Server.DhcpSettings ReadDhcp(YamlNode node, ArcBox.Dhcp.Server.DhcpSettings dhcp)
    {
        var map = Mapping(node, "'dhcp'", DhcpKeys);
        if (map is null)
        {
            return dhcp;
        }

        if (map.TryGetValue("enabled", out var e))
        {
            var text = Scalar(e.Value, "'dhcp.enabled'");
            if (text is "true" or "false")
            {
                dhcp = dhcp with { Enabled = text == "true" };
            }
            else
            {
                Error(e.Value, $"'dhcp.enabled' must be true or false, not '{text}'");
            }
        }

        // At least 4 s: a guest renews at half its lease, and a shorter one would be renewing all the time.
        return dhcp with { LeaseTime = TimeSpan.FromSeconds(Number(map, "dhcp", "lease_seconds", (int)dhcp.LeaseTime.TotalSeconds, 4, 31_536_000)) };
    }

    private ArcBox.Dns.Server.DnsSettings ReadDns(YamlNode node, ArcBox.Dns.Server.DnsSettings dns)
    {
        var map = Mapping(node, "'dns'", DnsKeys);
        if (map is null)
        {
            return dns;
        }

        if (map.TryGetValue("upstream", out var u))
        {
            var upstreams = new List<IPEndPoint>();
            foreach (var (text, itemNode) in ScalarOrList(u.Value, "'dns.upstream'"))
            {
                if (Addresses.TryParseEndpoint(text, 53, out var endpoint, out var error))
                {
                    upstreams.Add(endpoint);
                }
                else
                {
                    Error(itemNode, $"'dns.upstream': {error}");
                }
            }

            dns = dns with { Upstreams = upstreams };
        }

        dns = dns with
        {
            MinTtl = Number(map, "dns", "min_ttl", dns.MinTtl, 0, 86_400),
            MaxTtl = Number(map, "dns", "max_ttl", dns.MaxTtl, 1, 604_800),
            QueriesPerSecond = Number(map, "dns", "queries_per_second", dns.QueriesPerSecond, 1, 1_000_000),
            LogSize = Number(map, "dns", "log_size", dns.LogSize, 0, 1_000_000),
            UpstreamTimeout = TimeSpan.FromMilliseconds(Number(map, "dns", "timeout_ms", (int)dns.UpstreamTimeout.TotalMilliseconds, 100, 30_000)),
        };

        // Reported where the file sets one of the two (min_ttl first): a max_ttl below the default min_ttl counts too.
        if (dns.MinTtl > dns.MaxTtl && (map.TryGetValue("min_ttl", out var ttlNode) || map.TryGetValue("max_ttl", out ttlNode)))
        {
            Error(ttlNode.Value, $"'dns.min_ttl' ({dns.MinTtl}) is above 'dns.max_ttl' ({dns.MaxTtl})");
        }

        return dns;
    }

    private int Number(Dictionary<string, Entry> map, string section, string key, int fallback, int min, int max)
    {
        if (!map.TryGetValue(key, out var entry))
        {
            return fallback;
        }

        var text = Scalar(entry.Value, $"'{section}.{key}'");
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Error(entry.Value, $"'{section}.{key}' must be a whole number {min}-{max}, not '{text}'");
            return fallback;
        }

        return value;
    }

    private IPNetwork? Network(YamlNode node, string key, AddressFamily family, int maxPrefix)
    {
        var text = Scalar(node, $"'{key}'");
        if (text is null)
        {
            Error(node, $"'{key}' needs a CIDR such as {(family == AddressFamily.InterNetwork ? "10.0.0.0/24" : "fd00:ab::/64")}");
            return null;
        }

        if (!Addresses.TryParseNetwork(text, out var network, out var error))
        {
            Error(node, $"'{key}': {error}");
            return null;
        }

        if (network.BaseAddress.AddressFamily != family)
        {
            Error(node, $"'{key}': {text} is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} subnet");
            return null;
        }

        if (network.PrefixLength > maxPrefix || !text.Contains('/', StringComparison.Ordinal))
        {
            Error(node, $"'{key}': {text} leaves no room for sandboxes (at most /{maxPrefix})");
            return null;
        }

        return network;
    }
}
