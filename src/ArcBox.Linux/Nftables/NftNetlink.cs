using System.Text;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Wire;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Nftables;

/// <summary>
/// Writes nf_tables transactions straight to the kernel as one nfnetlink batch. libnftables refreshes its cache of
/// every chain and set before each transaction that follows a commit: at 1,000 sandboxes that was 2 ms of every
/// create and policy swap, plus parsing the script. The operations come ready (<see cref="WireRenderer"/>), so
/// nothing needs to be read first. Layouts from linux/netfilter/nf_tables.h and nfnetlink.h.
/// </summary>
public sealed class NftNetlink : IDisposable
{
    private const ushort Subsystem = 10; // NFNL_SUBSYS_NFTABLES
    private const ushort MsgNewChain = (Subsystem << 8) | 3;
    private const ushort MsgDelChain = (Subsystem << 8) | 5;
    private const ushort MsgNewRule = (Subsystem << 8) | 6;
    private const ushort MsgDelRule = (Subsystem << 8) | 8;
    private const ushort MsgNewSet = (Subsystem << 8) | 9;
    private const ushort MsgDelSet = (Subsystem << 8) | 11;
    private const ushort MsgNewSetElem = (Subsystem << 8) | 12;
    private const ushort MsgDelSetElem = (Subsystem << 8) | 14;

    private const byte NFPROTO_INET = 1;
    private const byte NFPROTO_ARP = 3;
    private const ushort NFTA_LIST_ELEM = 1;
    private const ushort NFTA_DATA_VALUE = 1;
    private const ushort NFTA_DATA_VERDICT = 2;
    private const ushort NFTA_VERDICT_CODE = 1;
    private const ushort NFTA_VERDICT_CHAIN = 2;
    private const uint Reg1 = 1;

    private readonly NetlinkSocket socket;
    private uint setId;

    private NftNetlink(NetlinkSocket socket) => this.socket = socket;

    /// <summary>A writer for the calling thread's namespace.</summary>
    public static NftNetlink Open() => new(NetlinkSocket.OpenNetfilter());

    /// <summary>A writer for another namespace: the socket is created there and used from here.</summary>
    public static NftNetlink OpenIn(Namespaces.NetworkNamespace ns) => new(NetlinkSocket.OpenNetfilterIn(ns));

    /// <summary>Applies <paramref name="operations"/> to the tables named <paramref name="table"/> in one transaction.</summary>
    public void Commit(string table, IReadOnlyList<WireOperation> operations)
    {
        if (operations.Count == 0)
        {
            return;
        }

        var messages = operations.Select(op => Message(table, op)).ToList();
        try
        {
            socket.Batch(messages, Subsystem, "nft transaction", i => Describe(operations[i]));
        }
        catch (KernelException ex)
        {
            throw new NftablesException("nft transaction", ex.Message, ex);
        }
    }

    public void Dispose() => socket.Dispose();

    private static string Describe(WireOperation op) => op switch
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

    private NetlinkMessage Message(string table, WireOperation op)
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
                // NFTA_SET_TABLE 1, NAME 2, FLAGS 3, KEY_TYPE 4, KEY_LEN 5, ID 10, USERDATA 13 (key byte order: big endian).
                return new NetlinkMessage(MsgNewSet, NLM_F_CREATE).NfGen(family)
                    .AttrString(1, table).AttrString(2, s.Name).AttrBe32(3, s.Flags).AttrBe32(4, s.KeyType).AttrBe32(5, s.KeyLength)
                    .AttrBe32(10, ++setId).Attr(13, [0, 4, 2, 0, 0, 0]);
            case WireDeleteSet s:
                return new NetlinkMessage(MsgDelSet, 0).NfGen(family).AttrString(1, table).AttrString(2, s.Name);
            case WireAddChain c:
                // NFTA_CHAIN_TABLE 1, NAME 3.
                return new NetlinkMessage(MsgNewChain, NLM_F_CREATE).NfGen(family).AttrString(1, table).AttrString(3, c.Name);
            case WireDeleteChain c:
                return new NetlinkMessage(MsgDelChain, 0).NfGen(family).AttrString(1, table).AttrString(3, c.Name);
            case WireFlushChain c:
                // NFTA_RULE_TABLE 1, CHAIN 2, no handle: every rule of the chain.
                return new NetlinkMessage(MsgDelRule, 0).NfGen(family).AttrString(1, table).AttrString(2, c.Name);
            case WireAddRule r:
                return Rule(new NetlinkMessage(MsgNewRule, NLM_F_CREATE | NLM_F_APPEND).NfGen(family).AttrString(1, table).AttrString(2, r.Chain), r);
            case WireElements e:
                return Elements(new NetlinkMessage(e.Delete ? MsgDelSetElem : MsgNewSetElem, e.Delete ? (ushort)0 : NLM_F_CREATE).NfGen(family), table, e);
            default:
                throw new ArgumentException($"operation {op.GetType().Name}", nameof(op));
        }
    }

    private static NetlinkMessage Rule(NetlinkMessage m, WireAddRule rule)
    {
        m.BeginNest(4 | NLA_F_NESTED); // NFTA_RULE_EXPRESSIONS
        foreach (var expression in rule.Expressions)
        {
            m.BeginNest(NFTA_LIST_ELEM | NLA_F_NESTED);
            m.AttrString(1, Name(expression)); // NFTA_EXPR_NAME
            m.BeginNest(2 | NLA_F_NESTED); // NFTA_EXPR_DATA
            Expression(m, expression);
            m.EndNest().EndNest();
        }

        m.EndNest();
        if (rule.Comment is { } comment)
        {
            // NFTA_RULE_USERDATA 7: libnftnl's TLV, type 0 (NFTNL_UDATA_RULE_COMMENT), the comment with its NUL.
            var text = Encoding.UTF8.GetBytes(comment + "\0");
            if (text.Length > 255)
            {
                throw new NftablesException("nft transaction", $"comment longer than 254 bytes: {comment}");
            }

            m.Attr(7, [0, (byte)text.Length, .. text]);
        }

        return m;
    }

    private static string Name(NftExpression e) => e switch
    {
        MetaLoad => "meta",
        PayloadLoad => "payload",
        Compare => "cmp",
        Bitwise => "bitwise",
        Lookup => "lookup",
        CounterExpr => "counter",
        Limit => "limit",
        Log => "log",
        Verdict => "immediate",
        _ => throw new ArgumentException($"expression {e.GetType().Name}", nameof(e)),
    };

    private static void Expression(NetlinkMessage m, NftExpression e)
    {
        switch (e)
        {
            case MetaLoad meta:
                m.AttrBe32(2, meta.Key).AttrBe32(1, Reg1); // NFTA_META_KEY, DREG
                break;
            case PayloadLoad p:
                m.AttrBe32(1, Reg1).AttrBe32(2, p.Base).AttrBe32(3, p.Offset).AttrBe32(4, p.Length); // DREG, BASE, OFFSET, LEN
                break;
            case Compare cmp:
                m.AttrBe32(1, Reg1).AttrBe32(2, cmp.Op); // SREG, OP
                Value(m, 3, cmp.Data.AsSpan()); // DATA
                break;
            case Bitwise b:
                m.AttrBe32(1, Reg1).AttrBe32(2, Reg1).AttrBe32(3, (uint)b.Mask.Length); // SREG, DREG, LEN
                Value(m, 4, b.Mask.AsSpan()); // MASK
                Value(m, 5, b.Xor.AsSpan()); // XOR
                break;
            case Lookup l:
                m.AttrString(1, l.Set).AttrBe32(2, Reg1); // SET, SREG
                if (l.Invert)
                {
                    m.AttrBe32(5, 1); // FLAGS: NFT_LOOKUP_F_INV
                }

                break;
            case CounterExpr:
                m.AttrBe64(1, 0).AttrBe64(2, 0); // BYTES, PACKETS
                break;
            case Limit limit:
                m.AttrBe64(1, limit.Rate).AttrBe64(2, limit.UnitSeconds).AttrBe32(3, limit.Burst).AttrBe32(4, 0).AttrBe32(5, 0); // RATE, UNIT, BURST, TYPE pkts, FLAGS
                break;
            case Log log:
                m.AttrBe16(1, log.Group).AttrString(2, log.Prefix); // GROUP, PREFIX
                break;
            case Verdict v:
                m.AttrBe32(1, 0); // DREG: the verdict register
                m.BeginNest(2 | NLA_F_NESTED); // NFTA_IMMEDIATE_DATA
                VerdictData(m, v);
                m.EndNest();
                break;
            default:
                throw new ArgumentException($"expression {e.GetType().Name}", nameof(e));
        }
    }

    private static void VerdictData(NetlinkMessage m, Verdict v)
    {
        m.BeginNest(NFTA_DATA_VERDICT | NLA_F_NESTED);
        m.AttrBe32(NFTA_VERDICT_CODE, unchecked((uint)v.Code));
        if (v.Chain is { } chain)
        {
            m.AttrString(NFTA_VERDICT_CHAIN, chain);
        }

        m.EndNest();
    }

    private static void Value(NetlinkMessage m, ushort type, ReadOnlySpan<byte> data)
    {
        m.BeginNest((ushort)(type | NLA_F_NESTED));
        m.Attr(NFTA_DATA_VALUE, data);
        m.EndNest();
    }

    private static NetlinkMessage Elements(NetlinkMessage m, string table, WireElements e)
    {
        // NFTA_SET_ELEM_LIST_TABLE 1, SET 2, ELEMENTS 3; each NFTA_SET_ELEM_KEY 1, DATA 2, TIMEOUT 4 (ms).
        m.AttrString(1, table).AttrString(2, e.Set);
        m.BeginNest(3 | NLA_F_NESTED);
        foreach (var element in e.Elements)
        {
            m.BeginNest(NFTA_LIST_ELEM | NLA_F_NESTED);
            Value(m, 1, element.Key.AsSpan());
            if (!e.Delete)
            {
                if (element.VerdictData is { } verdict)
                {
                    m.BeginNest(2 | NLA_F_NESTED);
                    VerdictData(m, verdict);
                    m.EndNest();
                }
                else if (element.Data is { } data)
                {
                    Value(m, 2, data.AsSpan());
                }

                if (element.TimeoutMilliseconds is { } timeout)
                {
                    m.AttrBe64(4, timeout);
                }
            }

            m.EndNest();
        }

        m.EndNest();
        return m;
    }
}
