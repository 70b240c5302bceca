using System.Buffers.Binary;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>One packet the kernel logged to our NFLOG group: the rule's log prefix and the packet's first bytes
/// from its network header.</summary>
public sealed record NflogPacket(string Prefix, DateTimeOffset Time, ushort EtherType, byte[] Payload);

/// <summary>
/// Packets logged by nftables `log group N` rules, over nfnetlink_log (NETLINK_NETFILTER, subsystem ULOG): bound
/// to one group in the socket's namespace, copying the first bytes of each packet (enough for the IP and transport
/// headers). The kernel batches messages (a queue threshold and a 100 ms flush); when this reader falls behind the
/// kernel drops messages instead of queueing them without bound, and <see cref="Receive"/> reports the loss.
/// </summary>
public sealed class NflogSocket : IDisposable
{
    private const ushort NFNL_SUBSYS_ULOG = 4;
    private const ushort NFULNL_MSG_PACKET = 0;
    private const ushort NFULNL_MSG_CONFIG = 1;
    private const ushort NFULA_CFG_CMD = 1;
    private const ushort NFULA_CFG_MODE = 2;
    private const ushort NFULA_CFG_TIMEOUT = 4;
    private const ushort NFULA_CFG_QTHRESH = 5;
    private const byte NFULNL_CFG_CMD_BIND = 1;
    private const byte NFULNL_COPY_PACKET = 2;
    private const ushort NFULA_PACKET_HDR = 1;
    private const ushort NFULA_TIMESTAMP = 3;
    private const ushort NFULA_PAYLOAD = 9;
    private const ushort NFULA_PREFIX = 10;

    private readonly NetlinkSocket socket;

    private NflogSocket(NetlinkSocket socket) => this.socket = socket;

    /// <summary>Binds <paramref name="group"/> in the calling thread's namespace. EBUSY: another process has it.</summary>
    public static NflogSocket Bind(ushort group, int copyBytes = 128)
    {
        var socket = NetlinkSocket.OpenNetfilter();
        try
        {
            const ushort config = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
            socket.Request(new NetlinkMessage(config, 0).NfGen(AF_UNSPEC, group).Attr(NFULA_CFG_CMD, [NFULNL_CFG_CMD_BIND]), $"bind NFLOG group {group}");

            // struct nfulnl_msg_config_mode { be32 copy_range; u8 copy_mode; u8 pad }.
            Span<byte> mode = stackalloc byte[6];
            mode.Clear();
            BinaryPrimitives.WriteUInt32BigEndian(mode, (uint)copyBytes);
            mode[4] = NFULNL_COPY_PACKET;
            Span<byte> timeout = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(timeout, 10);
            Span<byte> threshold = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(threshold, 32);
            socket.Request(
                new NetlinkMessage(config, 0).NfGen(AF_UNSPEC, group).Attr(NFULA_CFG_MODE, mode).Attr(NFULA_CFG_TIMEOUT, timeout).Attr(NFULA_CFG_QTHRESH, threshold),
                $"configure NFLOG group {group}");
            socket.SetReceiveTimeout(TimeSpan.FromMilliseconds(500));
            return new NflogSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits up to half a second for logged packets and adds them; returns false when the kernel dropped
    /// some because we read too slowly.</summary>
    public bool Receive(List<NflogPacket> packets)
    {
        var messages = socket.ReceiveEvents("receive NFLOG packets");
        if (messages is null)
        {
            return false;
        }

        foreach (var (type, payload) in messages)
        {
            if (type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) || payload.Length < 4)
            {
                continue;
            }

            var attrs = NetlinkAttributes.Parse(payload.AsSpan(4));
            if (!attrs.TryGetValue(NFULA_PAYLOAD, out var data))
            {
                continue;
            }

            var time = DateTimeOffset.UtcNow;
            if (attrs.TryGetValue(NFULA_TIMESTAMP, out var ts) && ts.Length >= 16)
            {
                var seconds = (long)BinaryPrimitives.ReadUInt64BigEndian(ts);
                var micros = (long)BinaryPrimitives.ReadUInt64BigEndian(ts.AsSpan(8));
                time = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
            }

            var etherType = attrs.TryGetValue(NFULA_PACKET_HDR, out var hdr) && hdr.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(hdr) : (ushort)0;
            packets.Add(new NflogPacket(attrs.TryGetValue(NFULA_PREFIX, out var prefix) ? NetlinkAttributes.String(prefix) : "", time, etherType, data));
        }

        return true;
    }

    public void Dispose() => socket.Dispose();
}
