using System.Buffers.Binary;
using ArcBox.Linux.Namespaces;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>Links, addresses and routes of one network namespace, over rtnetlink.</summary>
public sealed partial class RouteNetlink : IDisposable
{
    private readonly NetlinkSocket socket;

    private RouteNetlink(NetlinkSocket socket) => this.socket = socket;

    /// <summary>The calling thread's namespace.</summary>
    public static RouteNetlink Open() => new(NetlinkSocket.Open());

    /// <summary>Another namespace: the socket is created inside it and then used from here.</summary>
    public static RouteNetlink OpenIn(NetworkNamespace ns) => new(ns.Run(NetlinkSocket.Open, "open netlink socket"));

    public void Dispose() => socket.Dispose();

    /// <summary>The index of a link, or null when it does not exist.</summary>
    public int? LinkIndex(string name)
    {
        var reply = socket.Get(new NetlinkMessage(RTM_GETLINK, 0).IfInfo().AttrString(IFLA_IFNAME, name), $"get link {name}");
        return reply is null ? null : BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4));
    }

    public List<LinkInfo> Links()
    {
        var links = new List<LinkInfo>();
        foreach (var reply in socket.Dump(new NetlinkMessage(RTM_GETLINK, 0).IfInfo(), "list links"))
        {
            var index = BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4));
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(8));
            var attrs = NetlinkAttributes.Parse(reply.AsSpan(16));
            string? kind = null;
            if (attrs.TryGetValue(IFLA_LINKINFO, out var info) && NetlinkAttributes.Parse(info).TryGetValue(IFLA_INFO_KIND, out var k))
            {
                kind = NetlinkAttributes.String(k);
            }

            links.Add(new LinkInfo(index, attrs.TryGetValue(IFLA_IFNAME, out var n) ? NetlinkAttributes.String(n) : $"if{index}", kind, (flags & IFF_UP) != 0));
        }

        return links;
    }

    /// <summary>Every link's traffic counters (struct rtnl_link_stats64), by name: one dump for all links.</summary>
    public Dictionary<string, LinkCounters> LinkCounters()
    {
        var result = new Dictionary<string, LinkCounters>(StringComparer.Ordinal);
        foreach (var reply in socket.Dump(new NetlinkMessage(RTM_GETLINK, 0).IfInfo(), "list link counters"))
        {
            var attrs = NetlinkAttributes.Parse(reply.AsSpan(16));
            if (attrs.TryGetValue(IFLA_IFNAME, out var n) && attrs.TryGetValue(IFLA_STATS64, out var s) && s.Length >= 64)
            {
                // rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped (u64 each).
                ulong U(int i) => BinaryPrimitives.ReadUInt64LittleEndian(s.AsSpan(i * 8));
                result[NetlinkAttributes.String(n)] = new LinkCounters(U(0), U(2), U(1), U(3), U(6), U(7));
            }
        }

        return result;
    }

    /// <summary>
    /// A veth pair whose peer is created directly inside <paramref name="peerNamespace"/> (IFLA_NET_NS_FD in the
    /// peer's attributes): about 0.5 ms, against 16 ms for create-then-move.
    /// </summary>
    public void CreateVeth(string name, string peerName, NetworkNamespace peerNamespace, string? peerMac = null)
    {
        var msg = new NetlinkMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).IfInfo().AttrString(IFLA_IFNAME, name);
        msg.BeginNest(IFLA_LINKINFO).AttrString(IFLA_INFO_KIND, "veth").BeginNest(IFLA_INFO_DATA).BeginNest(VETH_INFO_PEER);
        msg.IfInfo().AttrString(IFLA_IFNAME, peerName).AttrU32(IFLA_NET_NS_FD, (uint)peerNamespace.Handle.Fd);
        if (peerMac is not null)
        {
            msg.Attr(IFLA_ADDRESS, ParseMac(peerMac));
        }

        msg.EndNest().EndNest().EndNest();
        socket.Request(msg, $"add link {name} type veth peer {peerName} netns {peerNamespace.Path}");
    }

    /// <summary>A link of a kind that needs no options: "dummy", "bridge", "ifb".</summary>
    public void CreateLink(string name, string kind)
    {
        var msg = new NetlinkMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).IfInfo().AttrString(IFLA_IFNAME, name);
        msg.BeginNest(IFLA_LINKINFO).AttrString(IFLA_INFO_KIND, kind).EndNest();
        socket.Request(msg, $"add link {name} type {kind}");
    }

    public void SetLinkUp(string name) =>
        socket.Request(new NetlinkMessage(RTM_NEWLINK, 0).IfInfo(flags: IFF_UP, change: IFF_UP).AttrString(IFLA_IFNAME, name), $"set link {name} up");

    public void SetLinkUp(int index, string name) =>
        socket.Request(new NetlinkMessage(RTM_NEWLINK, 0).IfInfo(index, IFF_UP, IFF_UP), $"set link {name} up");

    /// <summary>Deletes a link (a veth takes its peer with it); false when it did not exist.</summary>
    public bool DeleteLink(string name)
    {
        try
        {
            socket.Request(new NetlinkMessage(RTM_DELLINK, 0).IfInfo().AttrString(IFLA_IFNAME, name), $"delete link {name}");
            return true;
        }
        catch (KernelException ex) when (ex.Errno == Errno.ENODEV)
        {
            return false;
        }
    }

    internal static byte[] ParseMac(string mac) => [.. mac.Split(':').Select(p => Convert.ToByte(p, 16))];
}
