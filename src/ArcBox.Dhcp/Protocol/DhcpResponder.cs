using System.Collections.Immutable;
using System.Net;

namespace ArcBox.Dhcp.Protocol;

/// <summary>
/// The server's decisions (RFC 2131 4.3), for a link that has exactly one possible client and one address for it.
/// Pure: the server gives it a parsed request and the lease of the link it came in on.
/// </summary>
public static class DhcpResponder
{
    public sealed record Outcome(DhcpReply? Reply, string Event);

    public static Outcome Respond(DhcpMessage request, DhcpLease lease)
    {
        if (request.Op != DhcpMessage.BootRequest)
        {
            return Ignore("not a BOOTREQUEST");
        }

        if (!request.RelayAddress.Equals(IPAddress.Any))
        {
            return Ignore($"relayed through {request.RelayAddress}: relays are not served");
        }

        if (!string.Equals(request.HardwareText, lease.Mac, StringComparison.OrdinalIgnoreCase))
        {
            return Ignore($"client {request.HardwareText} is not the sandbox's MAC {lease.Mac}");
        }

        var ours = lease.Gateway;
        switch (request.MessageType)
        {
            case DhcpMessageType.Discover:
                return new(Reply(request, lease, DhcpMessageType.Offer), $"offer {lease.Address}");

            case DhcpMessageType.Request:
                var serverId = request.AddressOption(DhcpOption.ServerId);
                var requested = request.AddressOption(DhcpOption.RequestedAddress);
                if (serverId is not null && !serverId.Equals(ours))
                {
                    return Ignore($"request for server {serverId}, not {ours}");
                }

                // SELECTING and INIT-REBOOT name the address in option 50; RENEWING and REBINDING in ciaddr.
                var wanted = requested ?? request.ClientAddress;
                if (!wanted.Equals(lease.Address))
                {
                    return new(Nak(request, lease, $"{wanted} is not this client's address"), $"nak {wanted}");
                }

                return new(Reply(request, lease, DhcpMessageType.Ack), $"ack {lease.Address}");

            case DhcpMessageType.Inform:
                return new(Reply(request, lease, DhcpMessageType.Ack, inform: true), "ack inform");

            case DhcpMessageType.Decline:
                return Ignore($"decline: the client reports {request.AddressOption(DhcpOption.RequestedAddress)} in use on its link");

            case DhcpMessageType.Release:
                return Ignore("release");

            case null:
                return Ignore("no message type option (53)");

            default:
                return Ignore($"a {request.MessageType} is not a client message");
        }
    }

    private static Outcome Ignore(string why) => new(null, $"ignored: {why}");

    private static DhcpReply Reply(DhcpMessage request, DhcpLease lease, DhcpMessageType type, bool inform = false)
    {
        var options = ImmutableDictionary.CreateBuilder<byte, ImmutableArray<byte>>();
        options[DhcpOption.MessageType] = [(byte)type];
        options[DhcpOption.ServerId] = DhcpMessage.Address(lease.Gateway);
        options[DhcpOption.SubnetMask] = DhcpMessage.Address(lease.SubnetMask);
        options[DhcpOption.Router] = DhcpMessage.Address(lease.Gateway);
        options[DhcpOption.DnsServers] = DhcpMessage.Address(lease.Gateway);
        options[DhcpOption.HostName] = DhcpMessage.Text(lease.Sandbox);
        if (lease.DomainName is { } domain)
        {
            options[DhcpOption.DomainName] = DhcpMessage.Text(domain);
        }

        if (lease.Mtu is { } mtu)
        {
            options[DhcpOption.InterfaceMtu] = [(byte)(mtu >> 8), (byte)mtu];
        }

        if (!inform)
        {
            options[DhcpOption.LeaseTime] = DhcpMessage.Seconds32(lease.LeaseTime);
            options[DhcpOption.RenewalTime] = DhcpMessage.Seconds32(lease.LeaseTime / 2);
            options[DhcpOption.RebindingTime] = DhcpMessage.Seconds32(lease.LeaseTime * 7 / 8);
        }

        var message = new DhcpMessage(
            DhcpMessage.BootReply,
            request.TransactionId,
            0,
            request.Flags,
            request.ClientAddress,
            inform ? IPAddress.Any : lease.Address,
            IPAddress.Any,
            IPAddress.Any,
            request.HardwareAddress,
            options.ToImmutable());

        // A client that has its address (renewing, informing) gets a unicast; one that has none, the link's
        // broadcast: the link is point-to-point, so only that client hears it, and no ARP entry is needed.
        return new DhcpReply(message, request.ClientAddress.Equals(IPAddress.Any) ? IPAddress.Broadcast : request.ClientAddress);
    }

    private static DhcpReply Nak(DhcpMessage request, DhcpLease lease, string why)
    {
        var options = ImmutableDictionary.CreateBuilder<byte, ImmutableArray<byte>>();
        options[DhcpOption.MessageType] = [(byte)DhcpMessageType.Nak];
        options[DhcpOption.ServerId] = DhcpMessage.Address(lease.Gateway);
        options[DhcpOption.Message] = DhcpMessage.Text(why);
        var message = new DhcpMessage(DhcpMessage.BootReply, request.TransactionId, 0, request.Flags, IPAddress.Any, IPAddress.Any, IPAddress.Any, IPAddress.Any, request.HardwareAddress, options.ToImmutable());
        return new DhcpReply(message, IPAddress.Broadcast);
    }
}
