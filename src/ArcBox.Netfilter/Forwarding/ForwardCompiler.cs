using System.Net;
using ArcBox.Netfilter.Plan;
using static ArcBox.Netfilter.Plan.ObjectNames;

namespace ArcBox.Netfilter.Forwarding;

/// <summary>
/// A forward is three map and set elements: the DNAT for its host address (or for every local address), and the
/// permission that lets exactly the translated connections through to that one port of the sandbox. Nothing else
/// of the sandbox opens, and no packet passes through our process.
/// </summary>
public static class ForwardCompiler
{
    /// <summary>The elements of a forward, or an error when it cannot exist (an IPv6 forward on an IPv4-only network).</summary>
    public static IReadOnlyList<NftElement> Elements(NetworkConfig network, PortForward forward, SandboxIdentity target)
    {
        var v6 = forward.IsIPv6;
        var to = v6 ? target.Ipv6 ?? throw new InvalidOperationException($"sandbox '{target.Name}' has no IPv6 address; the network is IPv4-only") : target.Ipv4;
        var proto = forward.Protocol4;
        var destination = $"{to} . {forward.SandboxPort}";
        var elements = new List<NftElement>
        {
            forward.IsAnyAddress
                ? new NftElement("inet", v6 ? ForwardAny6 : ForwardAny4, $"{proto} . {forward.HostPort} : {destination}")
                : new NftElement("inet", v6 ? Forward6 : Forward4, $"{forward.HostAddress} . {proto} . {forward.HostPort} : {destination}"),
        };

        // The permission is per sandbox port: two forwards to the same port share it (elements are a set).
        elements.Add(new NftElement("inet", v6 ? ForwardAllowed6 : ForwardAllowed4, $"{to} . {proto} . {forward.SandboxPort}"));
        return elements;
    }

    /// <summary>The permission elements that no forward in <paramref name="remaining"/> still needs.</summary>
    public static IEnumerable<NftElement> Unshared(IReadOnlyList<NftElement> removed, IEnumerable<NftElement> remaining)
    {
        var kept = remaining.Where(e => e.Set is ForwardAllowed4 or ForwardAllowed6).ToHashSet();
        return removed.Where(e => e.Set is not (ForwardAllowed4 or ForwardAllowed6) || !kept.Contains(e));
    }

    public static bool IsLoopback(IPAddress address) => IPAddress.IsLoopback(address);
}
