using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ArcBox.Daemon.State;
using ArcBox.Dhcp.Protocol;
using ArcBox.Dhcp.Server;
using ArcBox.Dns.Lookup;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    private DhcpServer? dhcp;

    // Interface index -> TAP sandbox. Indexes change when a link is recreated, so they are learnt at wiring time.
    private ImmutableDictionary<int, string> tapLinks = ImmutableDictionary<int, string>.Empty;

    public DhcpServer? Dhcp => dhcp;

    /// <summary>The lease a sandbox's guest gets by DHCP, and whose ip= form `vm run` passes on the kernel command line.</summary>
    public DhcpLease LeaseOf(SandboxRecord r) =>
        new(r.Name, r.Mac, r.Ipv4, network.Subnet4.PrefixLength, network.Gateway4, config.Dhcp.LeaseTime, ResolverSnapshot.Zone);

    private void StartDhcp()
    {
        if (!config.Dhcp.Enabled)
        {
            return;
        }

        try
        {
            dhcp = new DhcpServer(IPAddress.Any, LeaseFor, e => Hosting.Log.DhcpEvent(log, e.Sandbox ?? "-", e.Interface, e.What));
            dhcp.Start();
        }
        catch (SocketException ex)
        {
            // Guests can still be configured on the kernel command line; say so rather than refuse to start.
            Hosting.Log.DhcpUnavailable(log, ex.Message);
        }
    }

    private (string Interface, DhcpLease? Lease) LeaseFor(int ifindex) =>
        tapLinks.TryGetValue(ifindex, out var name) && records.TryGetValue(name, out var r) && r.IsTap
            ? (r.Interface, LeaseOf(r))
            : ("#" + ifindex.ToString(CultureInfo.InvariantCulture), null);

    /// <summary>Learns the interface index of a TAP sandbox's link (after it was created or recreated).</summary>
    private void LearnTapLink(SandboxRecord r)
    {
        if (r.IsTap && host.LinkIndex(r.Interface) is { } index)
        {
            tapLinks = tapLinks.Where(kv => kv.Value != r.Name).ToImmutableDictionary().SetItem(index, r.Name);
        }
    }

    private void ForgetTapLink(string name) => tapLinks = tapLinks.Where(kv => kv.Value != name).ToImmutableDictionary();
}
