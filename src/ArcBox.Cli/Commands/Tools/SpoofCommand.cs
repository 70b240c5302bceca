using System.Buffers.Binary;
using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Tools;

/// <summary>Sends UDP datagrams with a forged IPv4 source address through a raw socket (IP_HDRINCL): what an attacker
/// inside a sandbox would try. ArcBox must drop them before they leave the host.</summary>
[Description("Send UDP with a forged IPv4 source address (for demos and tests)")]
public sealed class SpoofCommand : Command<SpoofCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--from <ADDR>")]
        public string From { get; init; } = "";

        [CommandOption("--to <ADDR:PORT>")]
        public string To { get; init; } = "";

        [CommandOption("--count <N>")]
        [DefaultValue(3)]
        public int Count { get; init; } = 3;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!IPAddress.TryParse(settings.From, out var source) || !IPEndPoint.TryParse(settings.To, out var target) || target.Port == 0)
        {
            throw CliException.Usage("spoof needs --from ADDR --to ADDR:PORT (IPv4)");
        }

        var payload = "spoofed"u8.ToArray();
        var packet = new byte[20 + 8 + payload.Length];

        // IPv4 header (RFC 791), then UDP (RFC 768) without checksum.
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        source.GetAddressBytes().CopyTo(packet, 12);
        target.Address.GetAddressBytes().CopyTo(packet, 16);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Checksum(packet.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), (ushort)target.Port);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(packet, 28);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw);
        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.HeaderIncluded, true);
        for (var i = 0; i < settings.Count; i++)
        {
            socket.SendTo(packet, new IPEndPoint(target.Address, 0));
        }

        Console.Out.WriteLine($"sent {settings.Count} datagram(s) from {source} to {target}");
        return ExitCodes.Success;
    }

    private static ushort Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
