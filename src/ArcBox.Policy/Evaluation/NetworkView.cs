using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;

namespace ArcBox.Policy.Evaluation;

/// <summary>What the evaluator knows of the network: its subnets, the host's addresses and the sandboxes.</summary>
/// <param name="HostAddresses">The host's addresses besides the gateways (uplink and others).</param>
public sealed record NetworkView(
    IPNetwork Subnet4,
    IPAddress Gateway4,
    IPNetwork? Subnet6,
    IPAddress? Gateway6,
    ImmutableArray<IPAddress> HostAddresses,
    ImmutableDictionary<string, SandboxAddresses> Sandboxes)
{
    public static NetworkView Default { get; } = Create(IPNetwork.Parse("10.0.0.0/24"), null);

    public bool DualStack => Subnet6 is not null;

    /// <summary>A view of a network whose gateways are the first address of each subnet.</summary>
    public static NetworkView Create(IPNetwork subnet4, IPNetwork? subnet6) =>
        new(subnet4, FirstHost(subnet4), subnet6, subnet6 is { } s6 ? FirstHost(s6) : null, [], ImmutableDictionary<string, SandboxAddresses>.Empty);

    public NetworkView WithSandbox(string name, SandboxAddresses addresses) =>
        this with { Sandboxes = Sandboxes.SetItem(name, addresses) };

    public static IPAddress FirstHost(IPNetwork network)
    {
        var bytes = network.BaseAddress.GetAddressBytes();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (++bytes[i] != 0)
            {
                break;
            }
        }

        return new IPAddress(bytes);
    }

    public bool IsHost(IPAddress address) =>
        address.Equals(Gateway4) || address.Equals(Gateway6) || HostAddresses.Contains(address);

    public bool InSubnet(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork ? Parsing.Addresses.Contains(Subnet4, address) : Subnet6 is { } s6 && Parsing.Addresses.Contains(s6, address);

    public AddressClass Classify(IPAddress address)
    {
        if (IsHost(address))
        {
            return new AddressClass(AddressKind.Host);
        }

        foreach (var (name, addresses) in Sandboxes)
        {
            if (addresses.Has(address))
            {
                return new AddressClass(AddressKind.Sandbox, name);
            }
        }

        if (InSubnet(address))
        {
            return new AddressClass(AddressKind.Network);
        }

        return new AddressClass(AddressRanges.IsNonPublic(address) ? AddressKind.NonPublic : AddressKind.Internet);
    }
}
