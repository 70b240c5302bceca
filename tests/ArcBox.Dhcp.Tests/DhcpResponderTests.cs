using System.Collections.Immutable;
using System.Net;
using ArcBox.Dhcp.Protocol;

namespace ArcBox.Dhcp.Tests;

public sealed class DhcpResponderTests
{
    private static readonly DhcpLease Lease = new(
        "web", "02:ab:00:00:00:07", IPAddress.Parse("10.0.0.7"), 24, IPAddress.Parse("10.0.0.1"),
        TimeSpan.FromHours(1), "arcbox.internal");

    private static readonly ImmutableArray<byte> Mac = [0x02, 0xab, 0, 0, 0, 7];

    private static DhcpMessage Request(DhcpMessageType type, Action<ImmutableDictionary<byte, ImmutableArray<byte>>.Builder>? options = null,
        IPAddress? ciaddr = null, IPAddress? giaddr = null, ImmutableArray<byte>? mac = null)
    {
        var o = ImmutableDictionary.CreateBuilder<byte, ImmutableArray<byte>>();
        o[DhcpOption.MessageType] = [(byte)type];
        options?.Invoke(o);
        return new DhcpMessage(DhcpMessage.BootRequest, 0x1234abcd, 0, 0, ciaddr ?? IPAddress.Any, IPAddress.Any,
            IPAddress.Any, giaddr ?? IPAddress.Any, mac ?? Mac, o.ToImmutable());
    }

    /// <summary>Every reply goes through the wire and back, so what is asserted is what a client would read.</summary>
    private static DhcpReply Answer(DhcpMessage request)
    {
        var wire = DhcpMessage.Parse(request.Encode(), out var error);
        Assert.True(wire is not null, error);
        var outcome = DhcpResponder.Respond(wire!, Lease);
        Assert.True(outcome.Reply is not null, outcome.Event);
        var encoded = outcome.Reply!.Message.Encode();
        Assert.True(encoded.Length >= DhcpMessage.MinimumLength);
        var parsed = DhcpMessage.Parse(encoded, out error);
        Assert.True(parsed is not null, error);
        return outcome.Reply with { Message = parsed! };
    }

    [Fact]
    public void Discover_is_offered_exactly_the_sandbox_address_gateway_and_resolver()
    {
        var reply = Answer(Request(DhcpMessageType.Discover));
        var m = reply.Message;

        Assert.Equal(DhcpMessageType.Offer, reply.Type);
        Assert.Equal(DhcpMessage.BootReply, m.Op);
        Assert.Equal(0x1234abcdu, m.TransactionId);
        Assert.Equal(IPAddress.Parse("10.0.0.7"), m.YourAddress);
        Assert.Equal(IPAddress.Parse("255.255.255.0"), m.AddressOption(DhcpOption.SubnetMask));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), m.AddressOption(DhcpOption.Router));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), m.AddressOption(DhcpOption.DnsServers));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), m.AddressOption(DhcpOption.ServerId));
        Assert.Equal("web", System.Text.Encoding.ASCII.GetString(m.Options[DhcpOption.HostName].AsSpan()));
        Assert.Equal("arcbox.internal", System.Text.Encoding.ASCII.GetString(m.Options[DhcpOption.DomainName].AsSpan()));
        Assert.Equal([0, 0, 0x0e, 0x10], m.Options[DhcpOption.LeaseTime]);
        Assert.Equal([0, 0, 0x07, 0x08], m.Options[DhcpOption.RenewalTime]);
        Assert.Equal([0, 0, 0x0c, 0x4e], m.Options[DhcpOption.RebindingTime]);
        Assert.Equal(IPAddress.Broadcast, reply.Destination);
        Assert.Equal(Mac, m.HardwareAddress);
    }

    [Fact]
    public void Request_while_selecting_is_acked()
    {
        var reply = Answer(Request(DhcpMessageType.Request, o =>
        {
            o[DhcpOption.ServerId] = DhcpMessage.Address(IPAddress.Parse("10.0.0.1"));
            o[DhcpOption.RequestedAddress] = DhcpMessage.Address(IPAddress.Parse("10.0.0.7"));
        }));

        Assert.Equal(DhcpMessageType.Ack, reply.Type);
        Assert.Equal(IPAddress.Parse("10.0.0.7"), reply.Message.YourAddress);
        Assert.Equal(IPAddress.Broadcast, reply.Destination);
    }

    [Fact]
    public void Renewal_names_the_address_in_ciaddr_and_is_answered_by_unicast()
    {
        var reply = Answer(Request(DhcpMessageType.Request, ciaddr: IPAddress.Parse("10.0.0.7")));

        Assert.Equal(DhcpMessageType.Ack, reply.Type);
        Assert.Equal(IPAddress.Parse("10.0.0.7"), reply.Message.ClientAddress);
        Assert.Equal(IPAddress.Parse("10.0.0.7"), reply.Destination);
    }

    [Fact]
    public void A_request_for_another_address_is_naked_with_a_reason()
    {
        var reply = Answer(Request(DhcpMessageType.Request, o =>
            o[DhcpOption.RequestedAddress] = DhcpMessage.Address(IPAddress.Parse("10.0.0.99"))));

        Assert.Equal(DhcpMessageType.Nak, reply.Type);
        Assert.Equal(IPAddress.Any, reply.Message.YourAddress);
        Assert.False(reply.Message.Options.ContainsKey(DhcpOption.LeaseTime));
        Assert.Contains("10.0.0.99", System.Text.Encoding.ASCII.GetString(reply.Message.Options[DhcpOption.Message].AsSpan()));
    }

    [Fact]
    public void Inform_gets_configuration_without_an_address_or_lease()
    {
        var reply = Answer(Request(DhcpMessageType.Inform, ciaddr: IPAddress.Parse("10.0.0.7")));

        Assert.Equal(DhcpMessageType.Ack, reply.Type);
        Assert.Equal(IPAddress.Any, reply.Message.YourAddress);
        Assert.False(reply.Message.Options.ContainsKey(DhcpOption.LeaseTime));
        Assert.Equal(IPAddress.Parse("10.0.0.1"), reply.Message.AddressOption(DhcpOption.Router));
    }

    public static TheoryData<string, DhcpMessage> Ignored => new()
    {
        { "not the sandbox's MAC", Request(DhcpMessageType.Discover, mac: [0x02, 0xab, 0, 0, 0, 8]) },
        { "relays are not served", Request(DhcpMessageType.Discover, giaddr: IPAddress.Parse("192.0.2.1")) },
        { "request for server 10.0.0.254", Request(DhcpMessageType.Request, o => o[DhcpOption.ServerId] = DhcpMessage.Address(IPAddress.Parse("10.0.0.254"))) },
        { "decline", Request(DhcpMessageType.Decline) },
        { "release", Request(DhcpMessageType.Release) },
        { "a Offer is not a client message", Request(DhcpMessageType.Offer) },
        { "no message type option", Request(DhcpMessageType.Discover, o => o.Remove(DhcpOption.MessageType)) },
        { "not a BOOTREQUEST", Request(DhcpMessageType.Discover) with { Op = DhcpMessage.BootReply } },
    };

    [Theory]
    [MemberData(nameof(Ignored))]
    public void Messages_the_server_must_not_answer_are_ignored_with_the_reason(string reason, DhcpMessage request)
    {
        var outcome = DhcpResponder.Respond(request, Lease);

        Assert.Null(outcome.Reply);
        Assert.Contains(reason, outcome.Event);
    }

    [Fact]
    public void Kernel_ip_argument_carries_the_same_configuration()
    {
        Assert.Equal("ip=10.0.0.7::10.0.0.1:255.255.255.0:web:eth0:off:10.0.0.1", Lease.KernelIpArgument());
        Assert.Equal(IPAddress.Parse("255.255.255.252"), (Lease with { PrefixLength = 30 }).SubnetMask);
        Assert.Equal(IPAddress.Any, (Lease with { PrefixLength = 0 }).SubnetMask);
    }
}
