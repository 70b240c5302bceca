using System.Net;
using ArcBox.Daemon.Config;
using ArcBox.Daemon.Vms;
using ArcBox.Dhcp.Server;
using ArcBox.Dns.Server;
using ArcBox.Policy.Diagnostics;

namespace ArcBox.Daemon.Tests.Config;

/// <summary>arcbox.yaml: what a valid file sets, what an absent key leaves at its default, and every problem
/// reported at its file:line:column.</summary>
public sealed class ConfigReaderTests : IDisposable
{
    private const string StateDirectory = "/var/lib/arcbox-test";
    private const string SocketPath = "/run/arcbox-test/arcbox.sock";

    private readonly string directory = Directory.CreateTempSubdirectory("arcbox-config-").FullName;

    private string ConfigFile => Path.Combine(directory, "arcbox.yaml");

    private static DaemonConfig Defaults => DaemonConfig.Defaults(StateDirectory, SocketPath);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private (DaemonConfig? Config, IReadOnlyList<Diagnostic> Diagnostics) Load(string yaml)
    {
        File.WriteAllText(ConfigFile, yaml);
        return ConfigReader.Load(ConfigFile, StateDirectory, SocketPath);
    }

    private DaemonConfig Valid(string yaml)
    {
        var (config, diagnostics) = Load(yaml);
        Assert.Empty(diagnostics);
        return Assert.IsType<DaemonConfig>(config);
    }

    /// <summary>Asserts the config is refused with exactly these diagnostics, each "line:column: error: message".</summary>
    private void Refused(string yaml, params string[] expected)
    {
        var (config, diagnostics) = Load(yaml);
        Assert.Equal(expected.Select(e => $"{ConfigFile}:{e}"), diagnostics.Select(d => d.ToString()));
        Assert.Null(config);
    }

    [Fact]
    public void Defaults_are_a_slash_24_prefix_ab_and_no_ipv6_uplink_metrics_or_qemu_path()
    {
        var d = Defaults;
        Assert.Equal(IPNetwork.Parse("10.0.0.0/24"), d.Subnet4);
        Assert.Null(d.Subnet6);
        Assert.Null(d.Uplink);
        Assert.Equal("ab", d.Prefix);
        Assert.Equal(StateDirectory, d.StateDirectory);
        Assert.Equal(SocketPath, d.SocketPath);
        Assert.Equal(Path.Combine(StateDirectory, "arcbox.db"), d.DatabasePath);
        Assert.Same(DnsSettings.Default, d.Dns);
        Assert.Equal(new DhcpSettings(true, TimeSpan.FromHours(1)), d.Dhcp);
        Assert.Equal(1000, d.LogSize);
        Assert.Null(d.MetricsListen);
        Assert.Equal(QemuCommand.DefaultBinary, d.QemuBinary);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing set yet\n")]
    [InlineData("~\n")]
    [InlineData("---\n")]
    public void An_empty_file_means_all_defaults(string yaml) =>
        Assert.Equal(Defaults, Valid(yaml));

    [Fact]
    public void No_file_at_the_default_path_means_all_defaults()
    {
        Assert.SkipWhen(File.Exists(DaemonConfig.DefaultConfigPath), $"{DaemonConfig.DefaultConfigPath} exists on this machine");
        var (config, diagnostics) = ConfigReader.Load(null, StateDirectory, SocketPath);
        Assert.Empty(diagnostics);
        Assert.Equal(Defaults, config);
    }

    [Fact]
    public void No_file_at_a_path_given_is_an_error()
    {
        var missing = Path.Combine(directory, "nope.yaml");
        var (config, diagnostics) = ConfigReader.Load(missing, StateDirectory, SocketPath);
        Assert.Null(config);
        Assert.Equal($"{missing}:1:1: error: config file not found", Assert.Single(diagnostics).ToString());
    }

    [Fact]
    public void Every_key_is_read()
    {
        var config = Valid("""
            subnet: 172.20.0.0/16
            subnet6: fd00:ab:1::/64
            uplink: enp1s0
            prefix: abc123
            dns:
              upstream: [192.0.2.53, "192.0.2.54:5353", "[2001:db8::53]:53"]
              min_ttl: 5
              max_ttl: 600
              queries_per_second: 50
              log_size: 20
              timeout_ms: 750
            dhcp:
              enabled: false
              lease_seconds: 120
            logs:
              size: 500
            metrics:
              listen: 127.0.0.1:9100
            vm:
              qemu: /opt/qemu/bin/qemu-system-x86_64
            """);
        Assert.Equal(IPNetwork.Parse("172.20.0.0/16"), config.Subnet4);
        Assert.Equal(IPNetwork.Parse("fd00:ab:1::/64"), config.Subnet6);
        Assert.Equal("enp1s0", config.Uplink);
        Assert.Equal("abc123", config.Prefix);
        Assert.Equal([IPEndPoint.Parse("192.0.2.53:53"), IPEndPoint.Parse("192.0.2.54:5353"), IPEndPoint.Parse("[2001:db8::53]:53")], config.Dns.Upstreams);
        Assert.Equal((5, 600, 50, 20, TimeSpan.FromMilliseconds(750)), (config.Dns.MinTtl, config.Dns.MaxTtl, config.Dns.QueriesPerSecond, config.Dns.LogSize, config.Dns.UpstreamTimeout));
        Assert.Equal(new DhcpSettings(false, TimeSpan.FromSeconds(120)), config.Dhcp);
        Assert.Equal(500, config.LogSize);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:9100"), config.MetricsListen);
        Assert.Equal("/opt/qemu/bin/qemu-system-x86_64", config.QemuBinary);
        Assert.Equal((StateDirectory, SocketPath), (config.StateDirectory, config.SocketPath));
    }

    [Fact]
    public void Keys_not_given_keep_their_defaults()
    {
        var config = Valid("dns:\n  min_ttl: 5\ndhcp:\n  lease_seconds: 60\n");
        Assert.Equal(Defaults with
        {
            Dns = DnsSettings.Default with { MinTtl = 5 },
            Dhcp = DhcpSettings.Default with { LeaseTime = TimeSpan.FromSeconds(60) },
        }, config);
    }

    [Fact]
    public void Empty_sections_are_defaults()
    {
        Assert.Equal(Defaults, Valid("uplink:\ndns:\ndhcp: ~\nlogs:\nmetrics:\nvm: null\n"));
        Assert.Equal(Defaults, Valid("metrics: {}\nvm: {}\nlogs: {}\ndns: {}\ndhcp: {}\n"));
    }

    [Fact]
    public void A_single_upstream_and_bare_addresses_get_the_default_ports()
    {
        var config = Valid("dns:\n  upstream: 2001:db8::53\nmetrics:\n  listen: \"::1\"\n");
        Assert.Equal([IPEndPoint.Parse("[2001:db8::53]:53")], config.Dns.Upstreams);
        Assert.Equal(IPEndPoint.Parse("[::1]:9464"), config.MetricsListen);
    }

    [Theory]
    [InlineData("10.0.0.0/30", "subnet")]
    [InlineData("192.168.0.0/16", "subnet")]
    [InlineData("fd00:ab::/120", "subnet6")]
    [InlineData("fd00::/48", "subnet6")]
    public void Subnets_up_to_the_smallest_that_holds_a_sandbox_are_accepted(string cidr, string key)
    {
        var config = Valid($"{key}: {cidr}\n");
        Assert.Equal(IPNetwork.Parse(cidr), key == "subnet" ? config.Subnet4 : config.Subnet6);
    }

    [Theory]
    [InlineData("subnet: 10.0.0.1/24", "1:9: error: 'subnet': invalid CIDR '10.0.0.1/24': host bits are set; did you mean 10.0.0.0/24?")]
    [InlineData("subnet: 10.0.0/24", "1:9: error: 'subnet': invalid IPv4 address '10.0.0': expected four numbers 0-255 separated by dots")]
    [InlineData("subnet: 10.0.0.0/33", "1:9: error: 'subnet': invalid CIDR '10.0.0.0/33': the prefix length must be 0-32")]
    [InlineData("subnet: fd00::/64", "1:9: error: 'subnet': fd00::/64 is not an IPv4 subnet")]
    [InlineData("subnet: 10.0.0.0/31", "1:9: error: 'subnet': 10.0.0.0/31 leaves no room for sandboxes (at most /30)")]
    [InlineData("subnet: 10.0.0.4", "1:9: error: 'subnet': 10.0.0.4 leaves no room for sandboxes (at most /30)")]
    [InlineData("subnet6: 10.1.0.0/16", "1:10: error: 'subnet6': 10.1.0.0/16 is not an IPv6 subnet")]
    [InlineData("subnet6: fd00:ab::/121", "1:10: error: 'subnet6': fd00:ab::/121 leaves no room for sandboxes (at most /120)")]
    [InlineData("subnet6: fd00::1%eth0/64", "1:10: error: 'subnet6': invalid IPv6 address 'fd00::1%eth0'")]
    public void A_bad_subnet_is_reported_at_its_value(string yaml, string expected) => Refused(yaml + "\n", expected);

    [Fact]
    public void A_subnet_must_be_a_cidr_not_nothing_or_a_list()
    {
        Refused("subnet:\n", "1:8: error: 'subnet' needs a CIDR such as 10.0.0.0/24");
        Refused("subnet6: ~\n", "1:10: error: 'subnet6' needs a CIDR such as fd00:ab::/64");
        Refused("subnet: [10.0.0.0/24]\n", "1:9: error: 'subnet' must be a single value, not a list", "1:9: error: 'subnet' needs a CIDR such as 10.0.0.0/24");
    }

    [Theory]
    [InlineData("'a b'", "a b")]
    [InlineData("a/b", "a/b")]
    [InlineData("abcdefghijklmnop", "abcdefghijklmnop")]
    [InlineData("\"\"", "")]
    public void An_uplink_must_be_an_interface_name(string value, string name) =>
        Refused($"uplink: {value}\n", $"1:9: error: invalid interface name '{name}'");

    [Fact]
    public void An_uplink_of_fifteen_characters_is_the_longest_the_kernel_takes() =>
        Assert.Equal("abcdefghijklmno", Valid("uplink: abcdefghijklmno\n").Uplink);

    [Theory]
    [InlineData("Ab")]
    [InlineData("1ab")]
    [InlineData("abcdefg")]
    [InlineData("a-b")]
    [InlineData("\"\"")]
    public void A_prefix_must_be_short_lower_case_letters_and_digits(string prefix) =>
        Refused($"prefix: {prefix}\n", $"1:9: error: invalid prefix '{prefix.Trim('"')}': use 1-6 lower-case letters and digits, starting with a letter");

    [Theory]
    [InlineData("logs", "size", 10, 1_000_000)]
    [InlineData("dhcp", "lease_seconds", 4, 31_536_000)]
    [InlineData("dns", "min_ttl", 0, 86_400)]
    [InlineData("dns", "max_ttl", 1, 604_800)]
    [InlineData("dns", "queries_per_second", 1, 1_000_000)]
    [InlineData("dns", "log_size", 0, 1_000_000)]
    [InlineData("dns", "timeout_ms", 100, 30_000)]
    public void Numbers_are_whole_and_within_their_bounds(string section, string key, int min, int max)
    {
        // The TTLs are also ordered; these keep the other one out of the way.
        string Yaml(string value) => $"{section}:\n  {key}: {value}\n" + section switch
        {
            "dns" when key == "min_ttl" => "  max_ttl: 604800\n",
            "dns" when key == "max_ttl" => "  min_ttl: 0\n",
            _ => "",
        };

        Valid(Yaml(min.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Valid(Yaml(max.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var column = key.Length + 5;
        foreach (var bad in new[] { (min - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), (max + 1L).ToString(System.Globalization.CultureInfo.InvariantCulture), "+5", "5.0", "1e3", "0x10", "ten", "99999999999" })
        {
            Refused(Yaml(bad), $"2:{column}: error: '{section}.{key}' must be a whole number {min}-{max}, not '{bad}'");
        }
    }

    [Fact]
    public void A_number_that_is_a_list_or_nothing_is_reported()
    {
        Refused("logs:\n  size: [100]\n", "2:9: error: 'logs.size' must be a single value, not a list", "2:9: error: 'logs.size' must be a whole number 10-1000000, not ''");
        Refused("logs:\n  size:\n", "2:8: error: 'logs.size' must be a whole number 10-1000000, not ''");
    }

    [Fact]
    public void The_dns_min_ttl_may_not_be_above_the_max_ttl()
    {
        Refused("dns:\n  min_ttl: 100\n  max_ttl: 50\n", "2:12: error: 'dns.min_ttl' (100) is above 'dns.max_ttl' (50)");
        Refused("dns:\n  min_ttl: 4000\n", "2:12: error: 'dns.min_ttl' (4000) is above 'dns.max_ttl' (3600)");
        Refused("dns:\n  max_ttl: 10\n", "2:12: error: 'dns.min_ttl' (30) is above 'dns.max_ttl' (10)");
        var equal = Valid("dns:\n  min_ttl: 60\n  max_ttl: 60\n").Dns;
        Assert.Equal((60, 60), (equal.MinTtl, equal.MaxTtl));
    }

    [Fact]
    public void Each_bad_upstream_is_reported_at_its_entry()
    {
        Refused(
            "dns:\n  upstream: [192.0.2.53, nope, \"192.0.2.54:0\", [1.1.1.1]]\n",
            "2:26: error: 'dns.upstream': invalid IPv4 address 'nope': expected four numbers 0-255 separated by dots",
            "2:32: error: 'dns.upstream': port 0 is outside 1-65535",
            "2:48: error: entries of 'dns.upstream' must be single values, not a list");
        Refused("dns:\n  upstream: []\n", "2:13: error: 'dns.upstream' is an empty list; remove it or name at least one entry");
        Refused("dns:\n  upstream:\n", "2:12: error: 'dns.upstream' must be a value or a list of values, not nothing");
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("yes")]
    [InlineData("True")]
    [InlineData("1")]
    public void Dhcp_enabled_is_true_or_false(string value) =>
        Refused($"dhcp:\n  enabled: {value}\n", $"2:12: error: 'dhcp.enabled' must be true or false, not '{value}'");

    [Theory]
    [InlineData("nope:x", "2:11: error: 'metrics.listen': invalid IPv4 address 'nope': expected four numbers 0-255 separated by dots")]
    [InlineData("127.0.0.1:0", "2:11: error: 'metrics.listen': port 0 is outside 1-65535")]
    [InlineData("\"[::1\"", "2:11: error: 'metrics.listen': invalid address '[::1': missing ']'")]
    [InlineData("[127.0.0.1]", "2:11: error: 'metrics.listen' must be a single value, not a list")]
    public void A_bad_metrics_listener_is_reported_at_its_value(string value, string expected) =>
        Refused($"metrics:\n  listen: {value}\n", expected);

    [Theory]
    [InlineData("qemu-system-x86_64", "qemu-system-x86_64")]
    [InlineData("./qemu", "./qemu")]
    [InlineData("\"/usr/bin/qemu\\tx\"", "/usr/bin/qemu\tx")]
    public void The_qemu_binary_is_an_absolute_path(string value, string path) =>
        Refused($"vm:\n  qemu: {value}\n", $"2:9: error: 'vm.qemu' must be an absolute path to a QEMU binary, not '{path}'");

    [Fact]
    public void Unknown_keys_are_reported_with_the_closest_valid_one()
    {
        Refused("prefx: ab\n", "1:1: error: unknown key 'prefx' in the config; did you mean 'prefix'?");
        Refused("dns:\n  upsteam: 192.0.2.53\n", "2:3: error: unknown key 'upsteam' in 'dns'; did you mean 'upstream'?");
        Refused("dhcp:\n  leese: 1\n", "2:3: error: unknown key 'leese' in 'dhcp'");
        Refused("metrics:\n  port: 9464\n", "2:3: error: unknown key 'port' in 'metrics'");
        Refused("vm:\n  kvm: yes\n", "2:3: error: unknown key 'kvm' in 'vm'");
        Refused("logs:\n  sise: 100\n", "2:3: error: unknown key 'sise' in 'logs'; did you mean 'size'?");
        Refused("[a]: 1\n", "1:1: error: keys in the config must be plain words, not a list");
    }

    [Fact]
    public void Sections_must_be_mappings()
    {
        Refused("- subnet: 10.0.0.0/24\n", "1:1: error: the config must be a mapping of keys (subnet, subnet6, uplink, prefix, dns, dhcp, logs, metrics, vm), not a list");
        Refused("dns: 192.0.2.53\n", "1:6: error: 'dns' must be a mapping of keys (upstream, min_ttl, max_ttl, queries_per_second, log_size, timeout_ms), not '192.0.2.53'");
        Refused("dhcp: true\n", "1:7: error: 'dhcp' must be a mapping of keys (enabled, lease_seconds), not 'true'");
        Refused("metrics: 127.0.0.1:9464\n", "1:10: error: 'metrics' must be a mapping of keys (listen), not '127.0.0.1:9464'");
        Refused("logs: [1]\n", "1:7: error: 'logs' must be a mapping of keys (size), not a list");
        Refused("vm: /usr/bin/qemu\n", "1:5: error: 'vm' must be a mapping of keys (qemu), not '/usr/bin/qemu'");
    }

    [Fact]
    public void Yaml_that_does_not_parse_is_one_error_where_it_breaks()
    {
        var (config, diagnostics) = Load("subnet: 10.0.0.0/24\ndns:\n  upstream: [192.0.2.53\n");
        Assert.Null(config);
        var error = Assert.Single(diagnostics);
        Assert.Equal(ConfigFile, error.Location.File);
        Assert.True(error.Location.Line >= 3, error.ToString());
        Assert.StartsWith("YAML syntax: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_document_and_a_duplicate_key_are_errors()
    {
        Refused("subnet: 10.0.0.0/24\n---\nprefix: ab\n", "3:1: error: a file holds one YAML document; found a second one");
        var (config, diagnostics) = Load("prefix: ab\nprefix: cd\n");
        Assert.Null(config);
        Assert.Contains("duplicate key 'prefix'", Assert.Single(diagnostics).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_in_file_order()
    {
        Refused(
            """
            logs:
              size: 1
            subnet: 10.0.0.1/24
            prefx: ab
            dhcp:
              enabled: maybe
              lease_seconds: 2
            dns:
              min_ttl: x
              upstream: [nope]
            vm:
              qemu: qemu
            """,
            "2:9: error: 'logs.size' must be a whole number 10-1000000, not '1'",
            "3:9: error: 'subnet': invalid CIDR '10.0.0.1/24': host bits are set; did you mean 10.0.0.0/24?",
            "4:1: error: unknown key 'prefx' in the config; did you mean 'prefix'?",
            "6:12: error: 'dhcp.enabled' must be true or false, not 'maybe'",
            "7:18: error: 'dhcp.lease_seconds' must be a whole number 4-31536000, not '2'",
            "9:12: error: 'dns.min_ttl' must be a whole number 0-86400, not 'x'",
            "10:14: error: 'dns.upstream': invalid IPv4 address 'nope': expected four numbers 0-255 separated by dots",
            "12:9: error: 'vm.qemu' must be an absolute path to a QEMU binary, not 'qemu'");
    }
}
