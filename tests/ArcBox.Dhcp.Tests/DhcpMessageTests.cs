using System.Buffers.Binary;
using ArcBox.Dhcp.Protocol;

namespace ArcBox.Dhcp.Tests;

public sealed class DhcpMessageTests
{
    /// <summary>A DHCPDISCOVER as busybox udhcpc sends it (captured layout): Ethernet, cookie, options 53, 61, 57, 55, end.</summary>
    private static byte[] Discover()
    {
        var b = new byte[300];
        b[0] = 1; b[1] = 1; b[2] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 0xdeadbeef);
        byte[] mac = [0x02, 0xab, 0, 0, 0, 7];
        mac.CopyTo(b, 28);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(236), 0x63825363);
        byte[] options = [53, 1, 1, 61, 7, 1, .. mac, 57, 2, 2, 64, 55, 4, 1, 3, 6, 12, 255];
        options.CopyTo(b, 240);
        return b;
    }

    [Fact]
    public void Parses_a_client_discover()
    {
        var m = DhcpMessage.Parse(Discover(), out var error);

        Assert.NotNull(m);
        Assert.Equal("", error);
        Assert.Equal(DhcpMessageType.Discover, m.MessageType);
        Assert.Equal(0xdeadbeefu, m.TransactionId);
        Assert.Equal("02:ab:00:00:00:07", m.HardwareText);
        Assert.Equal([1, 3, 6, 12], m.Options[DhcpOption.ParameterList]);
    }

    [Fact]
    public void Repeated_options_are_concatenated()
    {
        var b = Discover();
        byte[] options = [53, 1, 1, 55, 2, 1, 3, 55, 1, 6, 255];
        Array.Clear(b, 240, 60);
        options.CopyTo(b, 240);

        Assert.Equal([1, 3, 6], DhcpMessage.Parse(b, out _)!.Options[DhcpOption.ParameterList]);
    }

    public static TheoryData<string, byte[]> Malformed()
    {
        var data = new TheoryData<string, byte[]>
        {
            { "shorter than a DHCP header", Discover()[..239] },
            { "shorter than a DHCP header", [] },
        };

        var noCookie = Discover();
        noCookie[236] = 0;
        data.Add("no DHCP magic cookie", noCookie);

        var tokenRing = Discover();
        tokenRing[1] = 6;
        data.Add("is not Ethernet", tokenRing);

        var longMac = Discover();
        longMac[2] = 16;
        data.Add("is not Ethernet", longMac);

        var overrun = Discover()[..244];
        overrun[240] = 53; overrun[241] = 1; overrun[242] = 1; overrun[243] = 61;
        data.Add("runs past the end", overrun);

        var overrunLength = Discover()[..245];
        overrunLength[243] = 61; overrunLength[244] = 200;
        data.Add("runs past the end", overrunLength);

        var noEnd = Discover()[..243];
        data.Add("no end option", noEnd);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_messages_are_rejected_with_the_reason(string reason, byte[] packet)
    {
        Assert.Null(DhcpMessage.Parse(packet, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(4242);
        for (var i = 0; i < 20_000; i++)
        {
            var packet = Discover();
            // Corrupt a few bytes of the options region, or cut the packet anywhere.
            for (var k = random.Next(1, 6); k > 0; k--)
            {
                packet[random.Next(236, packet.Length)] = (byte)random.Next(256);
            }

            var cut = packet.AsSpan(0, random.Next(200, packet.Length + 1));
            var parsed = DhcpMessage.Parse(cut, out var error);
            Assert.True(parsed is not null || error.Length > 0);
        }
    }

    [Fact]
    public void Options_longer_than_255_bytes_cannot_be_encoded()
    {
        var m = DhcpMessage.Parse(Discover(), out _)!;
        var bad = m with { Options = m.Options.SetItem(DhcpOption.HostName, [.. new byte[256]]) };

        var e = Assert.Throws<ArgumentException>(() => bad.Encode());
        Assert.Contains("option 12 is 256 bytes", e.Message);
    }
}
