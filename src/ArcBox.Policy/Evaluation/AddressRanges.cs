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

    /// <summary>
    /// Link-local and cloud metadata addresses (169.254.169.254, fd00:ec2::254): like the host, a sandbox reaches
    /// them only through a rule whose CIDR lies inside one of these ranges, never through a CIDR that merely covers
    /// them (`to: 0.0.0.0/0` must not open the metadata service).
    /// </summary>
    public static ImmutableArray<IPNetwork> Guarded4 { get; } = [IPNetwork.Parse("169.254.0.0/16")];

    public static ImmutableArray<IPNetwork> Guarded6 { get; } = [IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fd00:ec2::254/128")];

    public static ImmutableArray<IPNetwork> GuardedOf(IPNetwork cidr) =>
        cidr.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Guarded4 : Guarded6;

    public static bool IsGuarded(IPAddress address) =>
        (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Guarded4 : Guarded6).Any(g => Parsing.Addresses.Contains(g, address));

    /// <summary>Whether the CIDR lies inside a guarded range: then it names those addresses and reaches them.</summary>
    public static bool NamesGuarded(IPNetwork cidr) =>
        GuardedOf(cidr).Any(g => cidr.PrefixLength >= g.PrefixLength && Parsing.Addresses.Contains(g, cidr.BaseAddress));

    /// <summary>Whether the CIDR covers guarded addresses it does not name (the kernel then excludes them).</summary>
    public static bool CoversGuarded(IPNetwork cidr) =>
        !NamesGuarded(cidr) && GuardedOf(cidr).Any(g => Parsing.Addresses.Contains(cidr, g.BaseAddress));

    /// <summary>Private, shared, loopback, link-local and metadata ranges that <paramref name="cidr"/> covers without
    /// lying inside one of them: what `policy validate` warns a wide CIDR also opens (or, for the guarded, does not).</summary>
    public static IReadOnlyList<IPNetwork> CoveredPrivate(IPNetwork cidr)
    {
        var v4 = cidr.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        IEnumerable<IPNetwork> ranges = v4 ? [.. Private4, .. Guarded4] : [.. Private6, .. Guarded6];
        return [.. ranges.Where(r => Parsing.Addresses.Contains(cidr, r.BaseAddress) && cidr.PrefixLength < r.PrefixLength)];
    }

    private static readonly IPNetwork[] Private4 =
        [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16")];

    private static readonly IPNetwork[] Private6 = [IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7")];

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
