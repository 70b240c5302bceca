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
}
