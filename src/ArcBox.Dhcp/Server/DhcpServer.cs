using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ArcBox.Dhcp.Protocol;

namespace ArcBox.Dhcp.Server;

/// <summary>
/// Answers DHCP on TAP sandbox links only. One socket on 0.0.0.0:67 learns the incoming link from IP_PKTINFO and asks
/// <c>leaseFor</c> what that link's one client may have; any other link gets no answer. Replies leave through that
/// same link (IP_UNICAST_IF), whatever the routing table says about 255.255.255.255. One thread: DHCP is a few
/// packets per guest boot and renewal, and the firewall rate-limits what reaches us.
/// </summary>
public sealed class DhcpServer : IDisposable
{
    public const int ServerPort = 67;
    public const int ClientPort = 68;

    // IP_UNICAST_IF (linux/in.h): the link unicast and limited-broadcast datagrams leave by; an ifindex in network order.
    private const int IpUnicastIf = 50;

    private readonly Socket socket;
    private readonly Func<int, (string Interface, DhcpLease? Lease)> leaseFor;
    private readonly Action<DhcpEvent> report;
    private Thread? thread;
    private long malformed;
    private long answered;
    private long ignored;

    /// <param name="leaseFor">For an interface index: its name, and the lease of the TAP sandbox on it (null: not ours to serve).</param>
    public DhcpServer(IPAddress bindAddress, Func<int, (string Interface, DhcpLease? Lease)> leaseFor, Action<DhcpEvent> report, int port = ServerPort)
    {
        this.leaseFor = leaseFor;
        this.report = report;
        socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.EnableBroadcast = true;
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            socket.Bind(new IPEndPoint(bindAddress, port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public long Malformed => Interlocked.Read(ref malformed);

    public long Answered => Interlocked.Read(ref answered);

    public long Ignored => Interlocked.Read(ref ignored);

    public void Start()
    {
        thread = new Thread(Loop) { IsBackground = true, Name = "arcbox-dhcp" };
        thread.Start();
    }

    public void Dispose()
    {
        socket.Dispose();
        thread?.Join(TimeSpan.FromSeconds(2));
    }

    private void Loop()
    {
        var buffer = new byte[1500];
        while (true)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            var flags = SocketFlags.None;
            int length;
            IPPacketInformation info;
            try
            {
                length = socket.ReceiveMessageFrom(buffer, ref flags, ref from, out info);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.Interrupted or SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            Handle(buffer.AsSpan(0, length), info.Interface);
        }
    }

    private void Handle(ReadOnlySpan<byte> data, int ifindex)
    {
        var (ifname, lease) = leaseFor(ifindex);
        if (lease is null)
        {
            // Not a TAP sandbox's link (the firewall lets none other through): never answered.
            Interlocked.Increment(ref ignored);
            return;
        }

        var request = DhcpMessage.Parse(data, out var error);
        if (request is null)
        {
            Interlocked.Increment(ref malformed);
            report(new DhcpEvent(DateTimeOffset.UtcNow, lease.Sandbox, ifname, $"malformed: {error}"));
            return;
        }

        var outcome = DhcpResponder.Respond(request, lease);
        if (outcome.Reply is not { } reply)
        {
            Interlocked.Increment(ref ignored);
            report(new DhcpEvent(DateTimeOffset.UtcNow, lease.Sandbox, ifname, outcome.Event));
            return;
        }

        try
        {
            Span<byte> index = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(index, ifindex);
            socket.SetRawSocketOption((int)SocketOptionLevel.IP, IpUnicastIf, index);
            socket.SendTo(reply.Message.Encode(), new IPEndPoint(reply.Destination, ClientPort));
            Interlocked.Increment(ref answered);
            report(new DhcpEvent(DateTimeOffset.UtcNow, lease.Sandbox, ifname, $"{request.MessageType?.ToString().ToLowerInvariant()} from {request.HardwareText}: {outcome.Event}"));
        }
        catch (SocketException ex)
        {
            report(new DhcpEvent(DateTimeOffset.UtcNow, lease.Sandbox, ifname, $"send {reply.Type} to {reply.Destination}: {ex.Message}"));
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
