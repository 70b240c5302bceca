using System.Net;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

public sealed partial class RouteNetlink
{
    /// <summary>Adds (or replaces) an address on a link.</summary>
    /// <param name="noDad">IPv6: usable at once, without duplicate address detection (a point-to-point link has no duplicate).</param>
    /// <param name="noPrefixRoute">Do not add the route of the prefix (we route each sandbox by its own /32 or /128).</param>
    public void AddAddress(int index, string link, IPAddress address, int prefixLength, bool noDad = false, bool noPrefixRoute = false, byte scope = RT_SCOPE_UNIVERSE)
    {
        var msg = new NetlinkMessage(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE).IfAddr(address, prefixLength, index, scope)
            .AttrAddress(IFA_LOCAL, address).AttrAddress(IFA_ADDRESS, address);
        var flags = (noDad ? IFA_F_NODAD : 0) | (noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0);
        if (flags != 0)
        {
            msg.AttrU32(IFA_FLAGS, flags);
        }

        socket.Request(msg, $"add address {address}/{prefixLength} dev {link}");
    }

    /// <summary>Every address of the namespace, with the index of its link.</summary>
    public List<(int Index, IPAddress Address)> Addresses()
    {
        var list = new List<(int, IPAddress)>();
        foreach (var reply in socket.Dump(new NetlinkMessage(RTM_GETADDR, 0).IfInfo(), "list addresses"))
        {
            // ifaddrmsg: family, prefixlen, flags, scope, u32 index.
            var index = BitConverter.ToInt32(reply, 4);
            var attrs = NetlinkAttributes.Parse(reply.AsSpan(8));
            if (attrs.TryGetValue(IFA_LOCAL, out var local) || attrs.TryGetValue(IFA_ADDRESS, out local))
            {
                list.Add((index, new IPAddress(local)));
            }
        }

        return list;
    }
}
