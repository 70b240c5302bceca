namespace ArcBox.Policy.Model;

/// <summary>Protocol of a rule. <see cref="Icmp"/> covers ICMP and ICMPv6.</summary>
public enum Protocol
{
    Any,
    Tcp,
    Udp,
    Icmp,
}
