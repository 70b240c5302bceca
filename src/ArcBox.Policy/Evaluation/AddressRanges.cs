using System.Collections.Immutable;
using System.Net;

namespace ArcBox.Policy.Evaluation;

/// <summary>
/// Address ranges that are never "internet": private, shared (CGNAT), loopback, link-local (so the
/// 169.254.169.254 metadata service), multicast, broadcast and reserved. The compiler renders the same lists,
/// so evaluator and kernel cannot disagree about them. Documentation ranges (TEST-NET) count as internet.
/// </summary>
public static class AddressRanges
{
    public static ImmutableArray<IPNetwork> NonPublic4 { get; } =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
    ];

    public static ImmutableArray<IPNetwork> NonPublic6 { get; } =
    [
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("::ffff:0:0/96"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    public static bool IsNonPublic(IPAddress address)
    {
        var list = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? NonPublic4 : NonPublic6;
        foreach (var network in list)
        {
            if (Parsing.Addresses.Contains(network, address))
            {
                return true;
            }
        }

        return false;
    }
}
