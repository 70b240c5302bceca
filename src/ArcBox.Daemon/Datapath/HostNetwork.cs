using System.Net;
using ArcBox.Daemon.Config;
using ArcBox.Daemon.Hosting;
using ArcBox.Linux;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Netlink;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Datapath;

/// <summary>What the host namespace needs once, before any sandbox: forwarding, the gateway, unreachable subnets.</summary>
public static class HostNetwork
{
    public static void Setup(DaemonConfig config, RouteNetlink host, ILogger log)
    {
        Sysctl.Set("net.ipv4.ip_forward", "1");

        // Before any bandwidth limit needs an ifb: loaded by autoload instead, it would add ifb0 and ifb1 to the
        // machine's own namespace. Where it cannot be loaded, limits fail when set, naming the kernel's error.
        if (ArcBox.Linux.Devices.KernelModules.LoadIfb() is { } problem)
        {
            Log.IfbUnavailable(log, problem);
        }

        if (config.Subnet6 is not null)
        {
            Sysctl.Set("net.ipv6.conf.all.forwarding", "1");
        }

        // The gateway addresses live on a link of their own, so the resolver can bind to them with no sandbox yet:
        // a dummy, or where the kernel has no dummy driver, a bridge without ports.
        var gw = config.GatewayLink;
        if (host.LinkIndex(gw) is null)
        {
            try
            {
                host.CreateLink(gw, "dummy");
            }
            catch (KernelException ex) when (ex.Errno == Errno.EOPNOTSUPP)
            {
                host.CreateLink(gw, "bridge");
            }

            Log.CreatedGatewayLink(log, gw);
        }

        // No link-local address of its own: nothing talks to the gateway link itself.
        Sysctl.Set($"net.ipv6.conf.{gw}.addr_gen_mode", "1");

        var index = host.LinkIndex(gw)!.Value;
        var network = config.Network(null);
        host.AddAddress(index, gw, network.Gateway4, 32, noPrefixRoute: true);
        if (network.Gateway6 is { } gw6)
        {
            host.AddAddress(index, gw, gw6, 128, noDad: true, noPrefixRoute: true);
        }

        host.SetLinkUp(index, gw);

        // Addresses of the subnet that no sandbox holds go nowhere, rather than out of the default route.
        host.AddUnreachableRoute(config.Subnet4);
        if (config.Subnet6 is { } s6)
        {
            host.AddUnreachableRoute(s6);
        }
    }

    /// <summary>The host's own addresses (for the evaluator's notion of "host").</summary>
    public static IReadOnlyList<IPAddress> Addresses(RouteNetlink host) =>
        [.. host.Addresses().Select(a => a.Address).Where(a => !IPAddress.IsLoopback(a)).Distinct()];
}
