using System.Collections.Immutable;

namespace ArcBox.Netfilter.Wire;

/// <summary>
/// Encodes <see cref="WireOperation"/>s as nf_tables netlink messages (nlmsghdr, nfgenmsg, attributes), one message
/// each, ready for an nfnetlink batch of subsystem <see cref="Subsystem"/>; sequence numbers are the sender's.
/// Pure: the bytes are those nft sends for the same objects, but for a few attributes it orders differently or adds
/// (tests/ArcBox.Netfilter.Tests/Wire/NftCaptureTests.cs names each). Layouts from linux/netfilter/nf_tables.h.
/// </summary>
public static class WireEncoder
{
    /// <summary>NFNL_SUBSYS_NFTABLES: the high byte of every message type, and the res_id of the batch's framing.</summary>
    public const ushort Subsystem = 10;

    private const ushort MsgNewChain = (Subsystem << 8) | 3;
    private const ushort MsgDelChain = (Subsystem << 8) | 5;
    private const ushort MsgNewRule = (Subsystem << 8) | 6;
    private const ushort MsgDelRule = (Subsystem << 8) | 8;
    private const ushort MsgNewSet = (Subsystem << 8) | 9;
    private const ushort MsgDelSet = (Subsystem << 8) | 11;
    private const ushort MsgNewSetElem = (Subsystem << 8) | 12;
    private const ushort MsgDelSetElem = (Subsystem << 8) | 14;

    private const ushort NLM_F_ECHO = 0x8;
    private const ushort NLM_F_CREATE = 0x400;
    private const ushort NLM_F_APPEND = 0x800;
    private const byte NFPROTO_INET = 1;
    private const byte NFPROTO_ARP = 3;

    // NFTA_SET_USERDATA: libnftnl's TLV NFTNL_UDATA_SET_KEYBYTEORDER (type 0, length 4), nft's BYTEORDER_BIG_ENDIAN
    // (2) or BYTEORDER_HOST_ENDIAN (1) as a host-order u32, which `nft list` reads to print the keys.
    private static readonly byte[] SetKeyByteOrderBigEndian = [0, 4, 2, 0, 0, 0];
    private static readonly byte[] SetKeyByteOrderHost = [0, 4, 1, 0, 0, 0];

    /// <summary>
    /// One message per operation, in order, for the tables named <paramref name="table"/>. What cannot be written
    /// (a comment too long for libnftnl's user data) throws <see cref="NotSupportedException"/> before any byte is
    /// sent, as <see cref="WireRenderer"/> does for what it cannot spell.
    /// </summary>
    public static ImmutableArray<ReadOnlyMemory<byte>> Encode(string table, IReadOnlyList<WireOperation> operations)
    {
        // NFTA_SET_ID only has to be unique within one batch: the kernel looks set ids up among the batch's own
        // transactions (nft_set_lookup_byid), and our lookups name their sets anyway.
        uint setId = 0;
        var messages = ImmutableArray.CreateBuilder<ReadOnlyMemory<byte>>(operations.Count);
        foreach (var op in operations)
        {
            messages.Add(Message(table, op, ref setId));
        }

        return messages.MoveToImmutable();
    }

    /// <summary>The operation as errors name it: "delete chain inet sb_web_out".</summary>
    public static string Describe(WireOperation op) => op switch
    {
        WireAddSet s => $"add set {s.Family} {s.Name}",
        WireDeleteSet s => $"delete set {s.Family} {s.Name}",
        WireAddChain c => $"add chain {c.Family} {c.Name}",
        WireFlushChain c => $"flush chain {c.Family} {c.Name}",
        WireDeleteChain c => $"delete chain {c.Family} {c.Name}",
        WireAddRule r => $"add rule {r.Family} {r.Chain}{(r.Comment is null ? "" : $" ({r.Comment})")}",
        WireElements e => $"{(e.Delete ? "delete" : "add")} element {e.Family} {e.Set}",
        _ => op.GetType().Name,
    };

    private static byte[] Message(string table, WireOperation op, ref uint setId)
    {
        var family = op.Family switch
        {
            "inet" => NFPROTO_INET,
            "arp" => NFPROTO_ARP,
            _ => throw new ArgumentException($"family {op.Family}", nameof(op)),
        };
        switch (op)
        {
            case WireAddSet s:
                // NFTA_SET_TABLE 1, NAME 2, FLAGS 3, KEY_TYPE 4, KEY_LEN 5, ID 10, USERDATA 13, EXPR 17.
                var set = new NetlinkMessageWriter(MsgNewSet, NLM_F_CREATE, family)
                    .AttrString(1, table).AttrString(2, s.Name).AttrBe32(3, s.Flags).AttrBe32(4, s.KeyType).AttrBe32(5, s.KeyLength)
                    .AttrBe32(10, ++setId).Attr(13, s.HostOrderKey ? SetKeyByteOrderHost : SetKeyByteOrderBigEndian);
                if (s.Counter)
                {
                    // NFTA_EXPR_NAME 1, NFTA_EXPR_DATA 2 (NFTA_COUNTER_BYTES 1, PACKETS 2): the kernel gives every element
                    // added without expressions of its own a copy of the set's.
                    set.BeginNest(17).AttrString(1, "counter").BeginNest(2).AttrBe64(1, 0).AttrBe64(2, 0).EndNest().EndNest();
                }

                return set.ToArray();
            case WireDeleteSet s:
                return new NetlinkMessageWriter(MsgDelSet, 0, family).AttrString(1, table).AttrString(2, s.Name).ToArray();
            case WireAddChain c:
                // NFTA_CHAIN_TABLE 1, NAME 3.
                return new NetlinkMessageWriter(MsgNewChain, NLM_F_CREATE, family).AttrString(1, table).AttrString(3, c.Name).ToArray();
            case WireDeleteChain c:
                return new NetlinkMessageWriter(MsgDelChain, 0, family).AttrString(1, table).AttrString(3, c.Name).ToArray();
            case WireFlushChain c:
                // NFTA_RULE_TABLE 1, CHAIN 2, no handle: every rule of the chain.
                return new NetlinkMessageWriter(MsgDelRule, 0, family).AttrString(1, table).AttrString(2, c.Name).ToArray();
            case WireAddRule r:
                var rule = new NetlinkMessageWriter(MsgNewRule, NLM_F_CREATE | NLM_F_APPEND, family).AttrString(1, table).AttrString(2, r.Chain);
                RuleEncoder.Rule(rule, r);
                return rule.ToArray();
            case WireElements e:
                var elementFlags = (ushort)((e.Delete ? 0 : NLM_F_CREATE) | (e.Echo ? NLM_F_ECHO : 0));
                var elements = new NetlinkMessageWriter(e.Delete ? MsgDelSetElem : MsgNewSetElem, elementFlags, family);
                ElementEncoder.Elements(elements, table, e);
                return elements.ToArray();
            default:
                throw new ArgumentException($"operation {op.GetType().Name}", nameof(op));
        }
    }
}
