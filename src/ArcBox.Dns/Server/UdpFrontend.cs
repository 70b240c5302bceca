using System.Net;
using System.Net.Sockets;
using System.Reflection;
using ARSoft.Tools.Net.Dns;

namespace ArcBox.Dns.Server;

/// <summary>
/// The UDP side of the resolver. ARSoft.Tools.Net's server starts two tasks and allocates a connection per datagram;
/// here two threads per socket receive with blocking calls and answer local names inline (no thread-pool hop, which
/// showed in the latency tail), and only answers that wait for an upstream continue asynchronously. Messages are
/// still parsed and encoded by ARSoft.Tools.Net.
/// </summary>
internal sealed class UdpFrontend : IDisposable
{
    private const int Threads = 2;
    private const int MaxUdp = 4096;

    // ARSoft.Tools.Net 3.6.1 (pinned) encodes only through an internal method; bound once, checked at start.
    private static readonly Func<DnsMessageBase, DnsRawPackage> Encode = BindEncoder();

    private readonly Socket socket;
    private readonly Func<IPAddress, bool> accept;
    private readonly Func<DnsMessage, IPAddress, ValueTask<DnsMessage?>> handle;
    private readonly Action malformed;
    private readonly CancellationTokenSource stop = new();

    /// <param name="accept">Before parsing: whether this source may ask now (a sandbox, within its rate).</param>
    public UdpFrontend(IPEndPoint endpoint, Func<IPAddress, bool> accept, Func<DnsMessage, IPAddress, ValueTask<DnsMessage?>> handle, Action malformed)
    {
        this.accept = accept;
        this.handle = handle;
        this.malformed = malformed;
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
        var buffer = new byte[MaxUdp];
        var any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        while (!stop.IsCancellationRequested)
        {
            EndPoint from = any;
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer, ref from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            var remote = (IPEndPoint)from;
            var source = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
            if (!accept(source))
            {
                continue;
            }

            DnsMessage query;
            try
            {
                query = DnsMessage.Parse(new ArraySegment<byte>(buffer, 0, length));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                malformed();
                continue;
            }

            var answer = handle(query, source);
            if (answer.IsCompletedSuccessfully)
            {
                Send(query, answer.Result, remote);
            }
            else
            {
                _ = answer.AsTask().ContinueWith(t => Send(query, t.IsCompletedSuccessfully ? t.Result : null, remote), TaskScheduler.Default);
            }
        }
    }

    private void Send(DnsMessage query, DnsMessage? response, IPEndPoint remote)
    {
        if (response is null)
        {
            return;
        }

        try
        {
            socket.SendTo(Bytes(query, response), SocketFlags.None, remote);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The client went away; nothing to tell it.
        }
    }

    /// <summary>The encoded response; over the client's UDP size it is truncated (TC) so that the client retries over TCP.</summary>
    private static ArraySegment<byte> Bytes(DnsMessage query, DnsMessage response)
    {
        var limit = query.IsEDnsEnabled && query.EDnsOptions is { } edns ? Math.Clamp((int)edns.UdpPayloadSize, 512, MaxUdp) : 512;
        var bytes = Encode(response).ToArraySegment(false);
        if (bytes.Count <= limit)
        {
            return bytes;
        }

        response.AnswerRecords.Clear();
        response.AuthorityRecords.Clear();
        response.AdditionalRecords.Clear();
        response.IsTruncated = true;
        return Encode(response).ToArraySegment(false);
    }

    private static Func<DnsMessageBase, DnsRawPackage> BindEncoder()
    {
        var method = typeof(DnsMessageBase).GetMethod("Encode", BindingFlags.Instance | BindingFlags.NonPublic, null, Type.EmptyTypes, null)
            ?? throw new InvalidOperationException("ARSoft.Tools.Net has no DnsMessageBase.Encode(): the pinned version 3.6.1 is required");
        return method.CreateDelegate<Func<DnsMessageBase, DnsRawPackage>>();
    }
}
