using System.Text;

namespace ArcBox.Netfilter.Wire;

/// <summary>
/// The attributes of NFT_MSG_NEWRULE after table and chain: NFTA_RULE_EXPRESSIONS, each expression its
/// NFTA_EXPR_NAME and NFTA_EXPR_DATA, then the comment as NFTA_RULE_USERDATA. Attribute numbers from
/// linux/netfilter/nf_tables.h, per expression in the order the kernel documents them.
/// </summary>
internal static class RuleEncoder
{
    private const ushort NFTA_RULE_EXPRESSIONS = 4;
    private const ushort NFTA_RULE_USERDATA = 7;
    private const ushort NFTA_EXPR_NAME = 1;
    private const ushort NFTA_EXPR_DATA = 2;

    // NFTNL_UDATA_RULE_COMMENT: libnftnl's TLV has a u8 length, which holds the comment and its NUL.
    private const byte UdataRuleComment = 0;
    private const int MaxComment = 255;

    public static void Rule(NetlinkMessageWriter m, WireAddRule rule)
    {
        m.BeginNest(NFTA_RULE_EXPRESSIONS);
        foreach (var expression in rule.Expressions)
        {
            m.BeginNest(NftData.NFTA_LIST_ELEM);
            m.AttrString(NFTA_EXPR_NAME, Name(expression));
            m.BeginNest(NFTA_EXPR_DATA);
            Expression(m, expression);
            m.EndNest().EndNest();
        }

        m.EndNest();
        if (rule.Comment is { } comment)
        {
            var text = Encoding.UTF8.GetBytes(comment + "\0");
            if (text.Length > MaxComment)
            {
                // Never from the compiler (its comments are rule ids like "outbound[3]"); libnftables refuses it too.
                throw new NotSupportedException($"comment longer than {MaxComment - 1} bytes: {comment}");
            }

            m.Attr(NFTA_RULE_USERDATA, [UdataRuleComment, (byte)text.Length, .. text]);
        }
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

    private static void Expression(NetlinkMessageWriter m, NftExpression e)
    {
        const uint reg1 = NftData.Reg1;
        switch (e)
        {
            case MetaLoad meta:
                m.AttrBe32(2, meta.Key).AttrBe32(1, meta.Register); // NFTA_META_KEY, DREG
                break;
            case PayloadLoad p:
                m.AttrBe32(1, p.Register).AttrBe32(2, p.Base).AttrBe32(3, p.Offset).AttrBe32(4, p.Length); // DREG, BASE, OFFSET, LEN
                break;
            case Compare cmp:
                m.AttrBe32(1, reg1).AttrBe32(2, cmp.Op); // SREG, OP
                NftData.Value(m, 3, cmp.Data.AsSpan()); // DATA
                break;
            case Bitwise b:
                m.AttrBe32(1, b.Register).AttrBe32(2, b.Register).AttrBe32(3, (uint)b.Mask.Length); // SREG, DREG, LEN
                NftData.Value(m, 4, b.Mask.AsSpan()); // MASK
                NftData.Value(m, 5, b.Xor.AsSpan()); // XOR
                break;
            case Lookup l:
                m.AttrString(1, l.Set).AttrBe32(2, reg1); // SET, SREG
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
                m.AttrBe32(1, NftData.RegVerdict); // DREG
                NftData.Verdict(m, 2, v); // NFTA_IMMEDIATE_DATA
                break;
            default:
                throw new ArgumentException($"expression {e.GetType().Name}", nameof(e));
        }
    }
}
