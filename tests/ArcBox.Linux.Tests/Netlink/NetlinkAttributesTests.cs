using ArcBox.Linux.Netlink;

namespace ArcBox.Linux.Tests.Netlink;

/// <summary>Reading attributes back: types without their flag bits, padding skipped, a truncated tail ignored.</summary>
public class NetlinkAttributesTests
{
    // IFLA_IFNAME "eth0", then a nested attribute (NLA_F_NESTED | 18) holding one u32, then u8 7 padded.
    private static readonly byte[] Attributes = Convert.FromHexString("0900030065746830000000000c00128008000100010000000500040007000000");

    [Fact]
    public void Parse_gives_payloads_by_type_without_the_flag_bits()
    {
        var parsed = NetlinkAttributes.Parse(Attributes);
        Assert.Equal(new ushort[] { 3, 4, 18 }, parsed.Keys.Order());
        Assert.Equal("eth0", NetlinkAttributes.String(parsed[3]));
        Assert.Equal("0800010001000000", Convert.ToHexStringLower(parsed[18]));
        Assert.Equal(new byte[] { 7 }, parsed[4]);
    }

    [Fact]
    public void ParseRaw_keeps_each_attribute_whole_to_send_it_back()
    {
        var raw = NetlinkAttributes.ParseRaw(Attributes);
        Assert.Equal("0c00128008000100", Convert.ToHexStringLower(raw[18])[..16]);
        Assert.Equal("0500040007", Convert.ToHexStringLower(raw[4]));
    }

    [Fact]
    public void List_keeps_order_and_repeated_types()
    {
        var list = NetlinkAttributes.List(Convert.FromHexString("050001000a000000050001000b000000"));
        Assert.Equal([(1, 0x0a), (1, 0x0b)], list.Select(a => ((int)a.Type, (int)a.Value[0])));
    }

    [Fact]
    public void A_truncated_attribute_ends_the_walk()
    {
        // The second attribute claims 12 bytes where 8 are left.
        var list = NetlinkAttributes.List(Convert.FromHexString("0500010001000000" + "0c00020001020304"));
        Assert.Single(list);
    }
}
