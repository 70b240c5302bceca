using ArcBox.Policy.Model;
using L4 = ArcBox.Policy.Model.Protocol;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// A piece of the service space that no rule of a path splits: a port range of TCP or UDP cut at every rule's port
/// boundaries, ICMP (and ICMPv6) as one piece, and every other protocol as one piece.
/// </summary>
public readonly record struct ServiceAtom(byte Protocol, int First, int Last)
{
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Icmp = 1;
    public const byte Icmp6 = 58;

    /// <summary>Every protocol but TCP, UDP, ICMP and ICMPv6: only rules with protocol any and no ports reach it.</summary>
    public const byte Other = 0;

    public static ServiceAtom Others => new(Other, 0, 0);

    /// <summary>Whether the rule's protocol and ports admit all of this piece (the cuts make it all or nothing).</summary>
    public bool CoveredBy(Rule rule)
    {
        var (first, last) = (First, Last);
        return Protocol switch
        {
            Other => rule.Protocol == L4.Any && !rule.HasPorts,
            Icmp => rule.Protocol == L4.Icmp || (rule.Protocol == L4.Any && !rule.HasPorts),
            _ => (rule.Protocol == L4.Any || rule.Protocol == (Protocol == Tcp ? L4.Tcp : L4.Udp))
                && (!rule.HasPorts || rule.Ports.Any(p => p.First <= first && last <= p.Last)),
        };
    }

    /// <summary>The pieces of a path's service space, cut at the port boundaries of <paramref name="rules"/> and at
    /// <paramref name="cuts"/> (port 53 on the host path, which DNS decides).</summary>
    public static List<ServiceAtom> Cut(IEnumerable<Rule> rules, params int[] cuts)
    {
        var atoms = new List<ServiceAtom>();
        var list = rules.ToList();
        foreach (var (protocol, l4) in new[] { (Tcp, L4.Tcp), (Udp, L4.Udp) })
        {
            var bounds = new SortedSet<int> { 0, 65536 };
            foreach (var rule in list.Where(r => r.Protocol == L4.Any || r.Protocol == l4))
            {
                foreach (var range in rule.Ports)
                {
                    bounds.Add(range.First);
                    bounds.Add(range.Last + 1);
                }
            }

            foreach (var cut in cuts)
            {
                bounds.Add(cut);
                bounds.Add(cut + 1);
            }

            var b = bounds.ToList();
            for (var i = 0; i + 1 < b.Count; i++)
            {
                atoms.Add(new ServiceAtom(protocol, b[i], b[i + 1] - 1));
            }
        }

        atoms.Add(new ServiceAtom(Icmp, 0, 0));
        return atoms;
    }
}
