using System.Net;
using ArcBox.Linux.Netlink;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Tests.Netlink;

/// <summary>
/// The requests ArcBox.Linux builds, byte for byte, as linux/netlink.h lays them out: nlmsghdr in host byte order,
/// the family header, attributes padded to 4 bytes (NLA_ALIGN), nests patched with their length when closed.
/// </summary>
public class NetlinkMessageTests
{
    [Fact]
    public void Header_holds_length_type_flags_with_request_sequence_and_port_zero()
    {
        var bytes = new NetlinkMessage(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL).Finish(7);
        Assert.Equal("10000000" + "1000" + "0106" + "07000000" + "00000000", Hex(bytes));
    }

    [Fact]
    public void Finish_can_renumber_the_same_message()
    {
        var m = new NetlinkMessage(RTM_GETLINK, 0).IfInfo();
        Assert.Equal("01000000", Hex(m.Finish(1)[8..12]));
        Assert.Equal("02000000", Hex(m.Finish(2)[8..12]));
    }

    [Fact]
    public void String_attribute_carries_its_nul_and_is_padded_to_four_bytes()
    {
        var bytes = new NetlinkMessage(RTM_GETLINK, 0).IfInfo().AttrString(IFLA_IFNAME, "ab-web").Finish(1);

        // 16 header + 16 ifinfomsg + 12: the attribute says 11 (4 + "ab-web\0"), one zero byte pads it.
        Assert.Equal(44, bytes.Length);
        Assert.Equal("2c000000", Hex(bytes[..4]));
        Assert.Equal("0b000300" + "61622d77656200" + "00", Hex(bytes[32..]));
    }

    [Fact]
    public void Short_payloads_pad_with_zeros_and_keep_their_own_length()
    {
        var bytes = new NetlinkMessage(RTM_GETLINK, 0).Attr(1, [0xaa]).Attr(2, []).Attr(3, [1, 2, 3, 4]).Finish(0);
        Assert.Equal("05000100aa000000" + "04000200" + "0800030001020304", Hex(bytes[HeaderLength..]));
    }

    [Fact]
    public void Integers_are_host_order_except_the_big_endian_ones_nf_tables_uses()
    {
        var bytes = new NetlinkMessage(RTM_NEWLINK, 0)
            .AttrU32(IFLA_MTU, 1500).AttrBe16(1, 0x1234).AttrBe32(2, 1).AttrBe64(3, 0x0102030405060708).Finish(0);
        Assert.Equal(
            "08000400dc050000" + "0600010012340000" + "0800020000000001" + "0c0003000102030405060708",
            Hex(bytes[HeaderLength..]));
    }

    [Fact]
    public void Nests_are_patched_with_the_length_of_all_they_hold()
    {
        // IFLA_LINKINFO { IFLA_INFO_KIND "veth", IFLA_INFO_DATA { VETH_INFO_PEER { } } }: the caller sets NLA_F_NESTED
        // where the family wants it (rtnetlink does not).
        var bytes = new NetlinkMessage(RTM_NEWLINK, 0)
            .BeginNest(IFLA_LINKINFO).AttrString(IFLA_INFO_KIND, "veth")
            .BeginNest(IFLA_INFO_DATA).BeginNest(VETH_INFO_PEER).EndNest().EndNest()
            .EndNest().AttrU32(IFLA_MTU, 9000).Finish(0);
        Assert.Equal(
            "18001200" + "090001007665746800000000" + "08000200" + "04000100" + "0800040028230000",
            Hex(bytes[HeaderLength..]));
    }

    [Fact]
    public void Family_headers_have_the_kernel_layouts()
    {
        // struct ifinfomsg { u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change }
        Assert.Equal("0a000000" + "05000000" + "01000000" + "01000000", Body(new NetlinkMessage(RTM_NEWLINK, 0).IfInfo(5, IFF_UP, IFF_UP, AF_INET6)));

        // struct ifaddrmsg { u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index }
        Assert.Equal("021800fd" + "05000000", Body(new NetlinkMessage(RTM_NEWADDR, 0).IfAddr(IPAddress.Parse("10.0.0.2"), 24, 5, RT_SCOPE_LINK)));
        Assert.Equal("0a400000" + "07000000", Body(new NetlinkMessage(RTM_NEWADDR, 0).IfAddr(IPAddress.Parse("fd00::2"), 64, 7)));

        // struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags }
        Assert.Equal("02200000" + "fe04fd01" + "04000000", Body(new NetlinkMessage(RTM_NEWROUTE, 0).RtMsg(AF_INET, 32, RT_SCOPE_LINK, RTN_UNICAST, RTNH_F_ONLINK)));

        // struct tcmsg { u8 family, u8 pad1, u16 pad2, s32 ifindex, u32 handle, u32 parent, u32 info }
        Assert.Equal("00000000" + "05000000" + "00000100" + "ffffffff" + "00000000", Body(new NetlinkMessage(36, 0).TcMsg(5, 0x00010000, 0xffffffff)));

        // struct nfgenmsg { u8 family, u8 version, be16 res_id }
        Assert.Equal("02001234", Body(new NetlinkMessage(NFNL_MSG_BATCH_BEGIN, 0).NfGen(AF_INET, 0x1234)));
    }

    [Fact]
    public void A_raw_attribute_is_copied_whole_and_padded()
    {
        var bytes = new NetlinkMessage(RTM_NEWLINK, 0).RawAttr([5, 0, 1, 0, 0xaa]).AttrU32(2, 1).Finish(0);
        Assert.Equal("05000100aa000000" + "0800020001000000", Hex(bytes[HeaderLength..]));
    }

    [Fact]
    public void Messages_grow_past_the_first_buffer()
    {
        var payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        var bytes = new NetlinkMessage(RTM_NEWLINK, 0).Attr(1, payload).AttrU32(2, 7).Finish(0).ToArray();
        Assert.Equal(HeaderLength + 3004 + 8, bytes.Length);
        Assert.Equal(payload, bytes.AsSpan(HeaderLength + 4, 3000).ToArray());
        Assert.Equal("0800020007000000", Hex(bytes.AsSpan(HeaderLength + 3004)));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 4)]
    [InlineData(4, 4)]
    [InlineData(5, 8)]
    [InlineData(11, 12)]
    public void Align_rounds_up_to_four(int n, int aligned) => Assert.Equal(aligned, NetlinkMessage.Align(n));

    [Fact]
    public void Address_family_follows_the_address() =>
        Assert.Equal(new[] { AF_INET, AF_INET6 }, new[] { NetlinkMessage.Family(IPAddress.Loopback), NetlinkMessage.Family(IPAddress.IPv6Loopback) });

    private static string Body(NetlinkMessage m) => Hex(m.Finish(0)[HeaderLength..]);

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
