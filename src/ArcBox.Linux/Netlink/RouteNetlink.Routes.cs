using System.Net;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

public sealed partial class RouteNetlink
{
    /// <summary>Adds or replaces a route in the main table: via a link (scope link) or a gateway.</summary>
    public void AddRoute(IPNetwork destination, int? oif, string? link, IPAddress? gateway = null, bool onlink = false)
    {
        var family = NetlinkMessage.Family(destination.BaseAddress);
        var scope = gateway is null ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        var msg = new NetlinkMessage(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE)
            .RtMsg(family, destination.PrefixLength, scope, RTN_UNICAST, onlink ? RTNH_F_ONLINK : 0);
        if (destination.PrefixLength > 0)
        {
            msg.AttrAddress(RTA_DST, destination.BaseAddress);
        }

        if (gateway is not null)
        {
            msg.AttrAddress(RTA_GATEWAY, gateway);
        }

        if (oif is { } index)
        {
            msg.AttrU32(RTA_OIF, (uint)index);
        }

        socket.Request(msg, $"add route {destination}{(gateway is null ? "" : $" via {gateway}")}{(link is null ? "" : $" dev {link}")}");
    }

    /// <summary>An unreachable route: addresses of the ArcBox subnet that no sandbox holds go nowhere, not out of the default route.</summary>
    public void AddUnreachableRoute(IPNetwork destination)
    {
        var msg = new NetlinkMessage(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE)
            .RtMsg(NetlinkMessage.Family(destination.BaseAddress), destination.PrefixLength, RT_SCOPE_UNIVERSE, RTN_UNREACHABLE)
            .AttrAddress(RTA_DST, destination.BaseAddress);
        socket.Request(msg, $"add route unreachable {destination}");
    }

    /// <summary>Deletes a route; false when it did not exist.</summary>
    public bool DeleteRoute(IPNetwork destination, bool unreachable = false)
    {
        var msg = new NetlinkMessage(RTM_DELROUTE, 0)
            .RtMsg(NetlinkMessage.Family(destination.BaseAddress), destination.PrefixLength, RT_SCOPE_UNIVERSE, unreachable ? RTN_UNREACHABLE : (byte)0)
            .AttrAddress(RTA_DST, destination.BaseAddress);
        try
        {
            socket.Request(msg, $"delete route {destination}");
            return true;
        }
        catch (KernelException ex) when (ex.Errno == Errno.ESRCH || ex.Errno == Errno.ENOENT)
        {
            return false;
        }
    }

    /// <summary>The link of the IPv4 default route in the main table, if there is one.</summary>
    public string? DefaultRouteLink()
    {
        foreach (var reply in socket.Dump(new NetlinkMessage(RTM_GETROUTE, 0).RtMsg(AF_INET, 0, 0, 0, protocol: 0), "list routes"))
        {
            // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, u32 flags.
            if (reply[1] != 0 || reply[7] != RTN_UNICAST)
            {
                continue;
            }

            var attrs = NetlinkAttributes.Parse(reply.AsSpan(12));
            var table = attrs.TryGetValue(RTA_TABLE, out var t) ? BitConverter.ToUInt32(t) : reply[4];
            if (table == RT_TABLE_MAIN && attrs.TryGetValue(RTA_OIF, out var oif))
            {
                var index = BitConverter.ToInt32(oif);
                return Links().FirstOrDefault(l => l.Index == index)?.Name;
            }
        }

        return null;
    }
}
