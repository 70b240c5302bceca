using ArcBox.Netfilter.Wire;

namespace ArcBox.Netfilter.Tests.Rendering;

/// <summary>
/// The expressions of a rule as nft 1.0.6 sends them (`nft --debug=netlink`): dependencies before the payload that
/// needs them, prefixes on byte boundaries as shorter loads, others masked. The kernel tests compare whole
/// listings; these pin the encodings.
/// </summary>
public class RuleLinearizerTests
{
    [Fact]
    public void Service_then_peer_with_a_byte_aligned_prefix()
    {
        var e = RuleLinearizer.Linearize("meta l4proto @l4_tcpudp th dport 8080 ip saddr 10.0.0.0/24 counter accept");
        Assert.Equal<NftExpression>(
        [
            new MetaLoad(MetaLoad.L4Proto), new Lookup("l4_tcpudp", false),
            new PayloadLoad(PayloadLoad.Transport, 2, 2), new Compare(Compare.Eq, [0x1f, 0x90]),
            new MetaLoad(MetaLoad.NfProto), new Compare(Compare.Eq, [2]),
            new PayloadLoad(PayloadLoad.Network, 12, 3), new Compare(Compare.Eq, [10, 0, 0]),
            new CounterExpr(), new Verdict(Verdict.Accept),
        ], e, new ExpressionComparer());
    }

    [Fact]
    public void Port_range_and_negated_set_and_masked_prefix()
    {
        var range = RuleLinearizer.Linearize("udp dport 1000-2000 ip6 daddr != @nonpublic6 counter return");
        Assert.Equal<NftExpression>(
        [
            new MetaLoad(MetaLoad.L4Proto), new Compare(Compare.Eq, [17]),
            new PayloadLoad(PayloadLoad.Transport, 2, 2), new Compare(Compare.Gte, [0x03, 0xe8]), new Compare(Compare.Lte, [0x07, 0xd0]),
            new MetaLoad(MetaLoad.NfProto), new Compare(Compare.Eq, [10]),
            new PayloadLoad(PayloadLoad.Network, 24, 16), new Lookup("nonpublic6", true),
            new CounterExpr(), new Verdict(Verdict.Return),
        ], range, new ExpressionComparer());

        var masked = RuleLinearizer.Linearize("ip daddr 172.16.0.0/12 drop");
        Assert.Equal<NftExpression>(
        [
            new MetaLoad(MetaLoad.NfProto), new Compare(Compare.Eq, [2]),
            new PayloadLoad(PayloadLoad.Network, 16, 4), new Bitwise([0xff, 0xf0, 0, 0], [0, 0, 0, 0]), new Compare(Compare.Eq, [172, 16, 0, 0]),
            new Verdict(Verdict.Drop),
        ], masked, new ExpressionComparer());
    }

    [Fact]
    public void Log_limit_and_interface_names()
    {
        var e = RuleLinearizer.Linearize("oifname \"ab-web\" counter limit rate 20/second burst 40 packets log prefix \"ab-web out default \" group 21232 drop");
        var name = new byte[16];
        "ab-web"u8.CopyTo(name);
        Assert.Equal<NftExpression>(
        [
            new MetaLoad(MetaLoad.OifName), new Compare(Compare.Eq, [.. name]),
            new CounterExpr(), new Limit(20, 1, 40), new Log("ab-web out default ", 21232), new Verdict(Verdict.Drop),
        ], e, new ExpressionComparer());
    }

    [Theory]
    [InlineData("ct state established accept")]
    [InlineData("ip daddr != 10.0.0.0/8 accept")]
    [InlineData("iifname \"ab-*\" accept")]
    [InlineData("tcp sport 80 accept")]
    [InlineData("meta l4proto sctp accept")]
    [InlineData("limit rate 5/minute accept")]
    [InlineData("log prefix \"unterminated accept")]
    [InlineData("ip daddr 2001:db8::1 accept")]
    public void Anything_else_is_refused_so_libnftables_writes_it(string rule) =>
        Assert.Throws<NotSupportedException>(() => RuleLinearizer.Linearize(rule));

    private sealed class ExpressionComparer : IEqualityComparer<NftExpression>
    {
        // Records compare ImmutableArray fields by reference; compare their bytes.
        public bool Equals(NftExpression? x, NftExpression? y) => (x, y) switch
        {
            (Compare a, Compare b) => a.Op == b.Op && a.Data.SequenceEqual(b.Data),
            (Bitwise a, Bitwise b) => a.Mask.SequenceEqual(b.Mask) && a.Xor.SequenceEqual(b.Xor),
            _ => Equals((object?)x, y),
        };

        public int GetHashCode(NftExpression obj) => obj.GetType().GetHashCode();
    }
}
