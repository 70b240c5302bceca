using System.Net;
using System.Net.Sockets;
using ArcBox.Dns.FastPath;

namespace ArcBox.Dns.Server;

/// <summary>
/// The UDP side of the resolver: threads per socket receive with blocking calls into their own buffers and a raw
/// <see cref="SocketAddress"/> (no EndPoint per packet). Cached answers go back from the same thread without
/// allocating; other queries are answered inline by the slow path, and only those that wait for an upstream
/// continue asynchronously (no thread-pool hop for the rest, which showed in the latency tail).
/// </summary>
internal sealed class UdpFrontend : IDisposable
{
    private const int Threads = 2;

    private readonly Socket socket;
    private readonly ResolverServer server;
    private readonly IPEndPoint template;
    private readonly CancellationTokenSource stop = new();

    public UdpFrontend(IPEndPoint endpoint, ResolverServer server)
    {
        this.server = server;
        template = new IPEndPoint(endpoint.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 << 20;
        socket.Bind(endpoint);
    }

    public void Start()
    {
        for (var i = 0; i < Threads; i++)
        {
            new Thread(Loop) { IsBackground = true, Name = $"arcbox-dns-{socket.LocalEndPoint}" }.Start();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        socket.Dispose();
        stop.Dispose();
    }

    private void Loop()
    {
        var buffer = new byte[WireQuery.MaxUdp];
        var response = new byte[WireQuery.MaxUdp];
        var from = new SocketAddress(socket.AddressFamily);
        while (!stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            switch (server.Receive(buffer.AsSpan(0, length), from, response, out var written, out var slow))
            {
                case Disposition.Answered:
                    Send(response.AsSpan(0, written), from);
                    break;
                case Disposition.Slow:
                    Slow(new ArraySegment<byte>(buffer, 0, length), slow, from);
                    break;
            }
        }
    }

    private void Slow(ArraySegment<byte> datagram, SlowQuery query, SocketAddress from)
    {
        var answer = server.AnswerSlow(datagram, query);
        if (answer.IsCompletedSuccessfully)
        {
            if (answer.Result is { } bytes)
            {
                Send(bytes, from);
            }

            return;
        }

        // The receive address is reused by the next packet: keep a copy for the later answer.
        var remote = template.Create(from);
        _ = answer.AsTask().ContinueWith(
            t =>
            {
                if (t.IsCompletedSuccessfully && t.Result is { } bytes)
                {
                    Send(bytes, remote);
                }
            },
            TaskScheduler.Default);
    }

    private void Send(ReadOnlySpan<byte> bytes, SocketAddress to)
    {
        try
        {
            socket.SendTo(bytes, SocketFlags.None, to);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The client went away; nothing to tell it.
        }
    }

    private void Send(ArraySegment<byte> bytes, EndPoint to)
    {
        try
        {
            socket.SendTo(bytes, SocketFlags.None, to);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The client went away; nothing to tell it.
        }
    }
}
