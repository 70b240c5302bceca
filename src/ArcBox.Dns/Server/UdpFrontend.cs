using System.Net;
using System.Net.Sockets;
using ArcBox.Dns.FastPath;
using ArcBox.Linux;
using ArcBox.Linux.Sockets;

namespace ArcBox.Dns.Server;

/// <summary>
/// The UDP side of the resolver. A thread per socket takes every datagram queued on it with one recvmmsg and
/// sends every cached answer with one sendmmsg: on these machines the kernel entries, not the answers, are most
/// of the cost per query. Cached answers allocate only their query-log entry; other queries are answered inline
/// by the slow path, and only those that may wait (for an upstream, or for the firewall in a sandbox with domains
/// rules) continue asynchronously (no thread-pool hop for the rest, which showed in the latency tail).
/// </summary>
internal sealed class UdpFrontend : IDisposable
{
    // One thread per socket: on 2 cores shared with the clients, a second thread on the same socket halved the
    // batches and doubled the sleeps and wake-ups (bench/dns.sh: ~70k against ~100k+ queries/s). The thread never
    // waits for an upstream or the firewall (see ResolverServer.AnswerSlow).
    private const int Threads = 1;
    private const int Batch = 32;

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
        try
        {
            // Wakes the threads blocked in recvmmsg (closing alone does not).
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }

        socket.Dispose();
        stop.Dispose();
    }

    private void Loop()
    {
        using var batch = new DatagramBatch(Batch, WireQuery.MaxUdp);
        var scratch = new byte[WireQuery.MaxUdp];
        var from = new SocketAddress(socket.AddressFamily);
        while (!stop.IsCancellationRequested)
        {
            int count;
            try
            {
                count = batch.Receive(socket.SafeHandle);
            }
            catch (Exception ex) when (ex is KernelException or ObjectDisposedException)
            {
                if (ex is ObjectDisposedException || stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            for (var i = 0; i < count; i++)
            {
                // Larger than any query a client may send over UDP: dropped whole, never read in part.
                if (batch.Truncated(i))
                {
                    continue;
                }

                var datagram = batch.Datagram(i);
                switch (server.Receive(datagram, batch.Source(i), batch.NextReply(), out var written, out var slow))
                {
                    case Disposition.Answered:
                        batch.Queue(i, written);
                        break;
                    case Disposition.Slow:
                        // The slow path parses from a managed array and may answer later: copy both out of the batch.
                        datagram.CopyTo(scratch);
                        var source = batch.Source(i);
                        source.CopyTo(from.Buffer.Span);
                        from.Size = source.Length;
                        Slow(new ArraySegment<byte>(scratch, 0, datagram.Length), slow, from);
                        break;
                }
            }

            batch.Send(socket.SafeHandle);
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
