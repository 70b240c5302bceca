using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Dhcp.Protocol;
using ArcBox.Dhcp.Server;
using ArcBox.Dns.Lookup;
using ArcBox.Netfilter;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Dhcp;

/// <summary>
/// DHCP for TAP sandboxes' guests: a request is told apart by the interface it arrived on, looked up in the
/// table by the link's index (learnt when the link was made), and answered with that sandbox's lease only.
/// </summary>
public sealed class DhcpService(NetworkConfig network, DhcpSettings settings, Func<SandboxTable> table, ILogger log) : IDisposable
{
    private DhcpServer? server;

    public DhcpServer? Server => server;

    /// <summary>The lease a sandbox's guest gets by DHCP, and whose ip= form `vm run` passes on the kernel command line.</summary>
    public DhcpLease LeaseOf(SandboxRecord r) =>
        new(r.Name, r.Mac, r.Ipv4, network.Subnet4.PrefixLength, network.Gateway4, settings.LeaseTime, ResolverSnapshot.Zone);

    public void Start()
    {
        if (!settings.Enabled)
        {
            return;
        }

        try
        {
            server = new DhcpServer(IPAddress.Any, LeaseFor, e => Hosting.Log.DhcpEvent(log, e.Sandbox ?? "-", e.Interface, e.What));
            server.Start();
        }
        catch (SocketException ex)
        {
            // Guests can still be configured on the kernel command line; say so rather than refuse to start.
            Hosting.Log.DhcpUnavailable(log, ex.Message);
            server?.Dispose();
            server = null;
        }
    }

    public void Dispose() => server?.Dispose();

    private (string Interface, DhcpLease? Lease) LeaseFor(int ifindex) =>
        table().OfLinkIndex(ifindex) is { Record.IsTap: true } s
            ? (s.Record.Interface, LeaseOf(s.Record))
            : ("#" + ifindex.ToString(CultureInfo.InvariantCulture), null);
}
