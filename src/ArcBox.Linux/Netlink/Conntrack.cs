using System.Net;
using System.Net.Sockets;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>
/// Connection tracking entries over ctnetlink (NETLINK_NETFILTER). A policy swap or a removal forgets every
/// connection of the sandbox: the next packet of a flow the new policy still allows is picked up again as new
/// (TCP loose tracking) and accepted by the rules; a flow it no longer allows is dropped at once, instead of
/// living on as "established".
/// </summary>
public sealed class Conntrack : IDisposable
{
    // linux/netfilter/nfnetlink.h and nfnetlink_conntrack.h.
    private const ushort Subsystem = 1 << 8; // NFNL_SUBSYS_CTNETLINK
    private const ushort MsgGet = Subsystem | 1;
    private const ushort MsgDelete = Subsystem | 2;
    private const ushort CTA_TUPLE_ORIG = 1;
    private const ushort CTA_TUPLE_REPLY = 2;
    private const ushort CTA_ZONE = 18;
    private const ushort CTA_TUPLE_IP = 1;

    private readonly NetlinkSocket socket;

    private Conntrack(NetlinkSocket socket) => this.socket = socket;

    public static Conntrack Open() => new(NetlinkSocket.OpenNetfilter());

    /// <summary>Deletes every entry with one of <paramref name="addresses"/> in its original or reply tuple; returns how many.</summary>
    public int Forget(IReadOnlyCollection<IPAddress> addresses)
    {
        var deleted = 0;
        foreach (var family in addresses.Select(a => a.AddressFamily).Distinct())
        {
            var nfFamily = family == AddressFamily.InterNetwork ? AF_INET : AF_INET6;
            foreach (var entry in socket.Dump(new NetlinkMessage(MsgGet, 0).NfGen(nfFamily), "list conntrack entries"))
            {
                var attrs = NetlinkAttributes.ParseRaw(entry.AsSpan(4));
                if (!attrs.TryGetValue(CTA_TUPLE_ORIG, out var orig))
                {
                    continue;
                }

                var involved = TupleAddresses(orig).Concat(attrs.TryGetValue(CTA_TUPLE_REPLY, out var reply) ? TupleAddresses(reply) : []);
                if (!involved.Any(addresses.Contains))
                {
                    continue;
                }

                var delete = new NetlinkMessage(MsgDelete, 0).NfGen(nfFamily).RawAttr(orig);
                if (attrs.TryGetValue(CTA_ZONE, out var zone))
                {
                    delete.RawAttr(zone);
                }

                try
                {
                    socket.Request(delete, "delete conntrack entry");
                    deleted++;
                }
                catch (KernelException ex) when (ex.Errno == Errno.ENOENT)
                {
                    // It expired meanwhile.
                }
            }
        }

        return deleted;
    }

    public void Dispose() => socket.Dispose();

    // The addresses of a tuple: CTA_TUPLE_IP holds CTA_IP_V4_SRC/DST (1, 2) or CTA_IP_V6_SRC/DST (3, 4).
    private static IEnumerable<IPAddress> TupleAddresses(byte[] rawTuple)
    {
        var tuple = NetlinkAttributes.Parse(rawTuple.AsSpan(4));
        if (!tuple.TryGetValue(CTA_TUPLE_IP, out var ip))
        {
            yield break;
        }

        foreach (var (_, value) in NetlinkAttributes.Parse(ip))
        {
            if (value.Length is 4 or 16)
            {
                yield return new IPAddress(value);
            }
        }
    }
}
