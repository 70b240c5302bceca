using System.Net;

namespace ArcBox.Dhcp.Protocol;

/// <summary>What the responder decided: a message and where it goes (a unicast address, or the link's broadcast).</summary>
public sealed record DhcpReply(DhcpMessage Message, IPAddress Destination)
{
    public DhcpMessageType Type => Message.MessageType!.Value;
}
