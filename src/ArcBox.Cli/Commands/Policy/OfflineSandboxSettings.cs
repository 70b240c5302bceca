using System.ComponentModel;
using System.Net;
using ArcBox.Cli.Infrastructure;
using ArcBox.Netfilter;
using ArcBox.Policy.Parsing;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

/// <summary>A policy file and the identity of the one sandbox it is compiled or explained for.</summary>
public class OfflineSandboxSettings : JsonSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("Policy file (or a built-in: default, offline); for explain, a live sandbox's name instead")]
    public string File { get; init; } = "";

    [CommandOption("--name <NAME>")]
    [Description("Sandbox name")]
    public string? Name { get; init; }

    [CommandOption("--ip <ADDR>")]
    [Description("Sandbox IPv4 address, inside --subnet")]
    public string? Ip { get; init; }

    [CommandOption("--ip6 <ADDR>")]
    [Description("Sandbox IPv6 address (needs --subnet6)")]
    public string? Ip6 { get; init; }

    [CommandOption("--mac <MAC>")]
    [Description("Sandbox MAC (default: derived from the name)")]
    public string? Mac { get; init; }

    [CommandOption("--subnet <CIDR>")]
    [Description("The network's IPv4 subnet; the gateway is its first address")]
    [DefaultValue("10.0.0.0/24")]
    public string Subnet { get; init; } = "10.0.0.0/24";

    [CommandOption("--subnet6 <CIDR>")]
    [Description("The network's IPv6 subnet (dual-stack)")]
    public string? Subnet6 { get; init; }

    [CommandOption("--prefix <PREFIX>")]
    [Description("Name prefix of interfaces and the nft table")]
    [DefaultValue(NetworkConfig.DefaultPrefix)]
    public string Prefix { get; init; } = NetworkConfig.DefaultPrefix;

    [CommandOption("--uplink <IFNAME>")]
    [Description("Interface that egress is masqueraded on (default: any that is not a sandbox)")]
    public string? Uplink { get; init; }

    /// <summary>The network and sandbox these options describe; every mistake is a usage error.</summary>
    public (NetworkConfig Network, SandboxIdentity Identity) Resolve()
    {
        if (string.IsNullOrEmpty(Name))
        {
            throw CliException.Usage("--name is required");
        }

        if (SandboxNames.Validate(Name) is { } nameError)
        {
            throw CliException.Usage(nameError);
        }

        if (NetworkConfig.ValidatePrefix(Prefix) is { } prefixError)
        {
            throw CliException.Usage(prefixError);
        }

        var subnet4 = ParseNetwork(Subnet, "--subnet", System.Net.Sockets.AddressFamily.InterNetwork);
        var subnet6 = Subnet6 is null ? (IPNetwork?)null : ParseNetwork(Subnet6, "--subnet6", System.Net.Sockets.AddressFamily.InterNetworkV6);
        var network = NetworkConfig.Create(Prefix, subnet4, subnet6, Uplink);
        if (string.IsNullOrEmpty(Ip))
        {
            throw CliException.Usage("--ip is required");
        }

        var ipv4 = ParseHostAddress(Ip, "--ip", subnet4, network.Gateway4);
        IPAddress? ipv6 = null;
        if (Ip6 is not null)
        {
            if (subnet6 is null)
            {
                throw CliException.Usage("--ip6 needs --subnet6: the network is IPv4-only");
            }

            ipv6 = ParseHostAddress(Ip6, "--ip6", subnet6.Value, network.Gateway6!);
        }

        if (Mac is not null && (!MacAddresses.IsValid(Mac) || (Convert.ToByte(Mac[..2], 16) & 1) != 0))
        {
            throw CliException.Usage($"--mac: invalid MAC '{Mac}': expected six unicast hex octets such as 02:00:00:00:00:01");
        }

        return (network, SandboxIdentity.Create(network, Name, ipv4, ipv6, Mac));
    }

    private static IPNetwork ParseNetwork(string text, string option, System.Net.Sockets.AddressFamily family)
    {
        if (!Addresses.TryParseNetwork(text, out var network, out var error))
        {
            throw CliException.Usage($"{option}: {error}");
        }

        if (network.BaseAddress.AddressFamily != family)
        {
            throw CliException.Usage($"{option}: '{text}' is not an {(family == System.Net.Sockets.AddressFamily.InterNetwork ? "IPv4" : "IPv6")} subnet");
        }

        var max = family == System.Net.Sockets.AddressFamily.InterNetwork ? 30 : 126;
        if (network.PrefixLength > max)
        {
            throw CliException.Usage($"{option}: '{text}' is too small; it needs room for a gateway and sandboxes (at most /{max})");
        }

        return network;
    }

    private static IPAddress ParseHostAddress(string text, string option, IPNetwork subnet, IPAddress gateway)
    {
        if (!Addresses.TryParseAddress(text, out var address, out var error))
        {
            throw CliException.Usage($"{option}: {error}");
        }

        if (!Addresses.Contains(subnet, address))
        {
            throw CliException.Usage($"{option}: {address} is outside the subnet {subnet}");
        }

        if (address.Equals(gateway) || address.Equals(subnet.BaseAddress))
        {
            throw CliException.Usage($"{option}: {address} is the {(address.Equals(gateway) ? "gateway" : "network")} address of {subnet}");
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && address.Equals(Broadcast(subnet)))
        {
            throw CliException.Usage($"{option}: {address} is the broadcast address of {subnet}");
        }

        return address;
    }

    internal static IPAddress Broadcast(IPNetwork subnet)
    {
        var bytes = subnet.BaseAddress.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var hostBits = Math.Clamp(((i + 1) * 8) - subnet.PrefixLength, 0, 8);
            bytes[i] |= (byte)((1 << hostBits) - 1);
        }

        return new IPAddress(bytes);
    }
}
