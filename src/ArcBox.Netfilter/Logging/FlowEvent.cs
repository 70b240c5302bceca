using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace ArcBox.Netfilter.Logging;

/// <summary>One logged connection attempt of a sandbox.</summary>
/// <param name="Direction">"out" (the sandbox initiated it) or "in" (to the sandbox).</param>
/// <param name="Verdict">"drop" (the default deny decided) or "allow" (a rule of a `log: all` policy).</param>
/// <param name="RuleId">The rule that decided: "outbound[0]", "inbound[1]", or "default".</param>
public sealed record FlowEvent(
    DateTimeOffset Time,
    string Sandbox,
    string Direction,
    string Protocol,
    string Source,
    int? SourcePort,
    string Destination,
    int? DestinationPort,
    string Verdict,
    string RuleId)
{
    /// <summary>
    /// Reads a packet our rules logged (pure). The log prefix is "INTERFACE DIRECTION RULEID " (see the compiler);
    /// the packet starts at its IPv4 or IPv6 header. Null for anything else: a prefix that is not ours, an
    /// interface that is no sandbox's, a truncated header.
    /// </summary>
    public static FlowEvent? Parse(string prefix, DateTimeOffset time, ReadOnlySpan<byte> packet, Func<string, string?> sandboxOfInterface)
    {
        var words = prefix.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 3 || words[1] is not ("out" or "in") || sandboxOfInterface(words[0]) is not { } sandbox)
        {
            return null;
        }

        int protocol, l4;
        var transport = true;
        IPAddress source, destination;
        if (packet.Length >= 20 && packet[0] >> 4 == 4)
        {
            l4 = (packet[0] & 0x0F) * 4;
            protocol = packet[9];
            source = new IPAddress(packet[12..16]);
            destination = new IPAddress(packet[16..20]);

            // A fragment after the first carries no transport header; a header length under 20 is malformed.
            transport = (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1FFF) == 0 && l4 >= 20;
        }
        else if (packet.Length >= 40 && packet[0] >> 4 == 6)
        {
            l4 = 40;
            protocol = packet[6];
            source = new IPAddress(packet[8..24]);
            destination = new IPAddress(packet[24..40]);
        }
        else
        {
            return null;
        }

        int? sourcePort = null, destinationPort = null;
        var name = protocol switch
        {
            6 => "tcp",
            17 => "udp",
            132 => "sctp",
            1 => "icmp",
            58 => "icmpv6",
            _ => protocol.ToString(CultureInfo.InvariantCulture),
        };
        if (transport && protocol is 6 or 17 or 132 && packet.Length >= l4 + 4)
        {
            sourcePort = BinaryPrimitives.ReadUInt16BigEndian(packet[l4..]);
            destinationPort = BinaryPrimitives.ReadUInt16BigEndian(packet[(l4 + 2)..]);
        }
        else if (transport && protocol is 1 or 58 && packet.Length >= l4 + 2)
        {
            name = $"{name} type {packet[l4]}";
        }

        return new FlowEvent(time, sandbox, words[1], name, source.ToString(), sourcePort, destination.ToString(), destinationPort, words[2] == "default" ? "drop" : "allow", words[2]);
    }
}
