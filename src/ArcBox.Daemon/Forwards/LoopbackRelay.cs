using System.Net;
using System.Net.Sockets;

namespace ArcBox.Daemon.Forwards;

/// <summary>
/// The one forward that the kernel cannot do: clients of [::1] (IPv6 loopback never leaves the host, so it cannot be
/// translated to a sandbox). A TCP relay in the daemon carries those connections, marked so that the firewall lets
/// them through to exactly the forwarded port (DESIGN.md §1: the userspace side of forwarding for loopback clients).
/// </summary>
public sealed class LoopbackRelay : IDisposable
{
    /// <summary>The packet mark of relayed connections ("ABXF"): the firewall admits them like translated ones.</summary>
    public const int Mark = 0x41425846;

    private const int SolSocket = 1;
    private const int SoMark = 36;

    private readonly Socket listener;
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stop = new();

    public LoopbackRelay(int port, IPEndPoint target)
    {
        this.target = target;
        listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.IPv6Loopback, port));
        listener.Listen(512);
        _ = Task.Run(AcceptLoop);
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Dispose();
        stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => Relay(client));
        }
    }

    private async Task Relay(Socket client)
    {
        using (client)
        using (var upstream = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                upstream.SetRawSocketOption(SolSocket, SoMark, BitConverter.GetBytes(Mark));
                await upstream.ConnectAsync(target, stop.Token);
                using var a = new NetworkStream(client, ownsSocket: false);
                using var b = new NetworkStream(upstream, ownsSocket: false);
                var up = Pump(a, upstream, b);
                var down = Pump(b, client, a);
                await Task.WhenAll(up, down);
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // One side went away; closing both is all there is to do. A refused target resets the client.
                client.LingerState = new LingerOption(true, 0);
            }
        }
    }

    private async Task Pump(NetworkStream from, Socket toSocket, NetworkStream to)
    {
        await from.CopyToAsync(to, stop.Token);
        toSocket.Shutdown(SocketShutdown.Send);
    }
}
