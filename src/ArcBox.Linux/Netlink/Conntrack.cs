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

    /// <summary>
    /// Deletes every entry with one of <paramref name="addresses"/> in its original or reply tuple; returns how many.
    /// One dump of every family: the kernel walks each bucket of its conntrack hash per dump (262,144 buckets on a
    /// 16 GB host), whatever the namespace holds, so a dual-stack sandbox costs one walk, not two.
    /// </summary>
    public int Forget(IReadOnlyCollection<IPAddress> addresses)
    {
        var deleted = 0;
        var wanted = addresses.ToHashSet();
        var families = wanted.Select(a => a.AddressFamily).Distinct().ToList();
        var dumpFamily = families.Count == 1 ? FamilyOf(families[0]) : AF_UNSPEC;
        foreach (var entry in socket.Dump(new NetlinkMessage(MsgGet, 0).NfGen(dumpFamily), "list conntrack entries"))
        {
            var attrs = NetlinkAttributes.ParseRaw(entry.AsSpan(4));
            if (!attrs.TryGetValue(CTA_TUPLE_ORIG, out var orig))
            {
                continue;
            }

            var involved = TupleAddresses(orig).Concat(attrs.TryGetValue(CTA_TUPLE_REPLY, out var reply) ? TupleAddresses(reply) : []);
            if (!involved.Any(wanted.Contains))
            {
                continue;
            }

            // The entry's own family (nfgenmsg), which the delete must name.
            var delete = new NetlinkMessage(MsgDelete, 0).NfGen(entry[0]).RawAttr(orig);
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

        return deleted;
    }

    /// <summary>
    /// How many connections the calling thread's namespace tracks (nf_conntrack_count), or null when it cannot
    /// be read. None means there is nothing to forget, and no walk to pay for.
    /// </summary>
    public static long? TrackedCount()
    {
        try
        {
            return long.Parse(File.ReadAllText("/proc/sys/net/netfilter/nf_conntrack_count").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    private static byte FamilyOf(AddressFamily family) => family == AddressFamily.InterNetwork ? AF_INET : AF_INET6;

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
