using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Plan;

/// <summary>
/// Names of the objects in our tables. Per-sandbox objects are "sb_NAME_..."; sandbox names cannot contain '_',
/// so a name splits back unambiguously, and no base object starts with "sb_".
/// </summary>
public static class ObjectNames
{
    public const string OutDispatch = "out_dispatch";
    public const string InDispatch = "in_dispatch";
    public const string HostDispatch = "host_dispatch";
    public const string HostInDispatch = "hostin_dispatch";
    /// <summary>The host-side interfaces of every sandbox.</summary>
    public const string Known = "interfaces";
    /// <summary>Link . MAC . IPv4 source address of every sandbox: one lookup for anti-spoofing.</summary>
    public const string Source4 = "source4";
    public const string Addr6 = "addr6";
    public const string DhcpClients = "dhcp_clients";
    public const string DhcpLinks = "dhcp_links";
    /// <summary>Per-link rate limit of DHCP requests (a dynamic set).</summary>
    public const string DhcpRate = "dhcp_rate";
    public const string NdTarget6 = "nd_target6";
    public const string Mac = "mac";
    public const string ArpOk = "arp_ok";
    public const string Net4 = "net4";
    public const string Net6 = "net6";
    public const string NonPublic4 = "nonpublic4";

    /// <summary>Link-local and metadata ranges a covering CIDR does not reach (AddressRanges.Guarded4/6).</summary>
    public const string Guarded4 = "guarded4";

    public const string Guarded6 = "guarded6";
    public const string NonPublic6 = "nonpublic6";
    public const string TcpUdp = "l4_tcpudp";
    public const string Icmp = "l4_icmp";
    public const string Deliver = "deliver";

    /// <summary>The guard's check of IPv4 options, jumped to only by headers longer than 20 bytes.</summary>
    public const string RouteOptions = "guard_options";

    // Port forwarding: host address . protocol . port -> sandbox address . port, and what may pass once translated.
    public const string Forward4 = "forward4";
    public const string Forward6 = "forward6";
    public const string ForwardAny4 = "forward_any4";
    public const string ForwardAny6 = "forward_any6";
    public const string ForwardAllowed4 = "forward_allowed4";
    public const string ForwardAllowed6 = "forward_allowed6";
    public const string SpoofCounter = "spoofed";
    public const string UnknownCounter = "unknown_interface";
    public const string InvalidCounter = "invalid";

    /// <summary>RELATED packets from a sandbox about a connection it is no endpoint of (forged ICMP errors).</summary>
    public const string ForeignCounter = "foreign_related";

    /// <summary>IPv4 source-route and record-route options, and IPv6 routing headers, from sandboxes.</summary>
    public const string RouteOptionCounter = "route_options";

    /// <summary>ICMP errors the host would have sent a sandbox about traffic no policy admitted.</summary>
    public const string HiddenCounter = "icmp_hidden";
    public const string SandboxPrefix = "sb_";

    public static string Of(string sandbox, string suffix) => $"{SandboxPrefix}{sandbox}_{suffix}";

    public static string OutChain(string sandbox) => Of(sandbox, "out");

    public static string InChain(string sandbox) => Of(sandbox, "in");

    /// <summary>Sandbox to the host itself (input hook).</summary>
    public static string HostChain(string sandbox) => Of(sandbox, "host");

    /// <summary>The host itself to the sandbox (output hook).</summary>
    public static string HostInChain(string sandbox) => Of(sandbox, "hostin");

    public static string RuleKey(Direction direction, int index) => (direction == Direction.Outbound ? "o" : "i") + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The sandbox a per-sandbox object belongs to, or null for base objects.</summary>
    public static string? SandboxOf(string objectName)
    {
        if (!objectName.StartsWith(SandboxPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var end = objectName.IndexOf('_', SandboxPrefix.Length);
        return end < 0 ? null : objectName[SandboxPrefix.Length..end];
    }
}
