using System.Buffers.Binary;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>
/// Traffic control over rtnetlink (what `tc` sends): a token bucket (tbf) as a link's root qdisc, and the ingress
/// redirect of a link into an IFB (ingress qdisc + u32 match-all + mirred egress redirect). Layouts from
/// include/uapi/linux/pkt_sched.h, pkt_cls.h and tc_act/tc_mirred.h.
/// </summary>
public sealed partial class RouteNetlink
{
    private const ushort RTM_NEWQDISC = 36;
    private const ushort RTM_DELQDISC = 37;
    private const ushort RTM_GETQDISC = 38;
    private const ushort RTM_NEWTFILTER = 44;
    private const ushort TCA_KIND = 1;
    private const ushort TCA_OPTIONS = 2;
    private const ushort TCA_TBF_PARMS = 1;
    private const ushort TCA_TBF_RATE64 = 4;
    private const ushort TCA_TBF_BURST = 6;
    private const ushort TCA_U32_SEL = 5;
    private const ushort TCA_U32_ACT = 7;
    private const ushort TCA_ACT_KIND = 1;
    private const ushort TCA_ACT_OPTIONS = 2;
    private const ushort TCA_MIRRED_PARMS = 2;
    private const uint TC_H_ROOT = 0xFFFFFFFF;
    private const uint TC_H_INGRESS = 0xFFFFFFF1;
    private const uint IngressHandle = 0xFFFF0000;
    private const byte TC_LINKLAYER_ETHERNET = 1;
    private const int TC_ACT_STOLEN = 4;
    private const int TCA_EGRESS_REDIR = 1;
    private const byte TC_U32_TERMINAL = 1;
    private const ushort ETH_P_ALL = 0x0003;

    /// <summary>
    /// Makes a token bucket of <paramref name="bitsPerSecond"/> the root qdisc of a link (created or replaced: a
    /// rate change is one message, without a moment unshaped). Burst and queue follow the rate: a burst of 4 ms of
    /// traffic (at least 16 KiB, so a full-size frame always fits), a queue of 50 ms beyond it.
    /// </summary>
    public void SetRootShaper(int index, string link, ulong bitsPerSecond)
    {
        var bytesPerSecond = Math.Max(bitsPerSecond / 8, 1);
        var burst = (uint)Math.Clamp(bytesPerSecond / 250, 16 * 1024, 16 * 1024 * 1024);
        var limit = (uint)Math.Clamp((bytesPerSecond / 20) + burst, 64 * 1024, 256UL * 1024 * 1024);

        // struct tc_tbf_qopt { tc_ratespec rate, peakrate; u32 limit, buffer, mtu }, tc_ratespec { u8 cell_log,
        // u8 linklayer; u16 overhead; s16 cell_align; u16 mpu; u32 rate (bytes/s) }. Rates at or above 2^32
        // bytes/s go in TCA_TBF_RATE64; TCA_TBF_BURST gives the bucket in bytes (buffer is then derived).
        Span<byte> qopt = stackalloc byte[36];
        qopt.Clear();
        qopt[1] = TC_LINKLAYER_ETHERNET;
        BinaryPrimitives.WriteUInt32LittleEndian(qopt[8..], (uint)Math.Min(bytesPerSecond, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(qopt[24..], limit);
        var msg = new NetlinkMessage(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE).TcMsg(index, 0x00010000, TC_H_ROOT).AttrString(TCA_KIND, "tbf");
        msg.BeginNest(TCA_OPTIONS).Attr(TCA_TBF_PARMS, qopt).AttrU32(TCA_TBF_BURST, burst);
        if (bytesPerSecond >= uint.MaxValue)
        {
            Span<byte> rate64 = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(rate64, bytesPerSecond);
            msg.Attr(TCA_TBF_RATE64, rate64);
        }

        msg.EndNest();
        socket.Request(msg, $"set root qdisc of {link} to tbf rate {bitsPerSecond} bit/s");
    }

    /// <summary>Removes a link's root qdisc (back to the default); false when it had none of ours.</summary>
    public bool DeleteRootQdisc(int index, string link) =>
        DeleteQdisc(new NetlinkMessage(RTM_DELQDISC, 0).TcMsg(index, 0, TC_H_ROOT), $"delete root qdisc of {link}");

    /// <summary>
    /// Sends everything arriving on a link to the egress of <paramref name="ifbIndex"/> (an IFB, which hands each
    /// packet back to the link's ingress path after its own qdisc): an ingress qdisc, and a u32 filter matching
    /// every packet with a mirred egress redirect. Idempotent: an existing redirect is replaced.
    /// </summary>
    public void RedirectIngress(int index, string link, int ifbIndex, string ifb)
    {
        DeleteIngress(index, link);
        socket.Request(new NetlinkMessage(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL).TcMsg(index, IngressHandle, TC_H_INGRESS).AttrString(TCA_KIND, "ingress"), $"add ingress qdisc to {link}");

        // struct tc_u32_sel { u8 flags, offshift, nkeys, pad; be16 offmask; u16 off; s16 offoff, hoff; be32 hmask;
        // tc_u32_key keys[] } with one key { be32 mask, val; int off, offmask } of zeros: matches everything.
        Span<byte> selector = stackalloc byte[32];
        selector.Clear();
        selector[0] = TC_U32_TERMINAL;
        selector[2] = 1;

        // struct tc_mirred { u32 index, capab; int action, refcnt, bindcnt; int eaction; u32 ifindex }.
        Span<byte> mirred = stackalloc byte[28];
        mirred.Clear();
        BinaryPrimitives.WriteInt32LittleEndian(mirred[8..], TC_ACT_STOLEN);
        BinaryPrimitives.WriteInt32LittleEndian(mirred[20..], TCA_EGRESS_REDIR);
        BinaryPrimitives.WriteInt32LittleEndian(mirred[24..], ifbIndex);

        // tcm_info: priority 1 in the upper half, the protocol (ETH_P_ALL, network order) in the lower.
        var info = (1u << 16) | BinaryPrimitives.ReverseEndianness(ETH_P_ALL);
        var msg = new NetlinkMessage(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL).TcMsg(index, 0, IngressHandle, info).AttrString(TCA_KIND, "u32");
        msg.BeginNest(TCA_OPTIONS).Attr(TCA_U32_SEL, selector)
            .BeginNest(TCA_U32_ACT).BeginNest(1).AttrString(TCA_ACT_KIND, "mirred").BeginNest(TCA_ACT_OPTIONS).Attr(TCA_MIRRED_PARMS, mirred).EndNest().EndNest().EndNest()
            .EndNest();
        socket.Request(msg, $"redirect ingress of {link} to {ifb}");
    }

    /// <summary>Whether a link has an ingress qdisc (ours carries the redirect).</summary>
    public bool HasIngress(int index, string link)
    {
        foreach (var reply in socket.Dump(new NetlinkMessage(RTM_GETQDISC, 0).TcMsg(index, 0, 0), $"list qdiscs of {link}"))
        {
            // struct tcmsg: ifindex at 4, parent at 12.
            if (reply.Length >= 20 && BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4)) == index && BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(12)) == TC_H_INGRESS)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Removes a link's ingress qdisc and with it the redirect; false when there was none.</summary>
    public bool DeleteIngress(int index, string link) =>
        DeleteQdisc(new NetlinkMessage(RTM_DELQDISC, 0).TcMsg(index, IngressHandle, TC_H_INGRESS), $"delete ingress qdisc of {link}");

    private bool DeleteQdisc(NetlinkMessage msg, string operation)
    {
        try
        {
            socket.Request(msg, operation);
            return true;
        }
        catch (KernelException ex) when (ex.Errno == Errno.ENOENT || ex.Errno == Errno.EINVAL)
        {
            // ENOENT: no such qdisc (also for the default root qdisc); EINVAL from older kernels for the latter.
            return false;
        }
    }
}
