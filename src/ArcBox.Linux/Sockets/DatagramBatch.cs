using System.Runtime.InteropServices;

namespace ArcBox.Linux.Sockets;

/// <summary>
/// Datagrams in and out of a UDP socket in batches: one recvmmsg returns every datagram already queued (at least
/// one, blocking), one sendmmsg sends every reply. On a busy resolver this halves the system calls and with them
/// the kernel entries that dominate the cost per query. Native buffers, so nothing is pinned or allocated per
/// batch; one batch per thread (not thread-safe).
/// </summary>
public sealed unsafe class DatagramBatch : IDisposable
{
    /// <summary>Room for a sockaddr_in6, the largest source address a UDP socket reports.</summary>
    public const int AddressSize = 28;

    private readonly int capacity;
    private readonly int bufferSize;
    private readonly byte* memory;
    private readonly Interop.Sys.MMsgHdr* inbound;
    private readonly Interop.Sys.MMsgHdr* outbound;
    private readonly Interop.Sys.IoVec* vectors;
    private readonly byte* addresses;
    private readonly byte* data;
    private int received;
    private int queued;
    private int disposed;

    /// <param name="capacity">Datagrams per batch, each way.</param>
    /// <param name="bufferSize">The largest datagram received or sent.</param>
    public DatagramBatch(int capacity, int bufferSize)
    {
        this.capacity = capacity;
        this.bufferSize = bufferSize;

        // One block: inbound and outbound headers, their iovecs, source and destination addresses, data.
        var headers = 2 * capacity * sizeof(Interop.Sys.MMsgHdr);
        var iov = 2 * capacity * sizeof(Interop.Sys.IoVec);
        var names = 2 * capacity * AddressSize;
        var size = (nuint)(headers + iov + names + (2 * capacity * bufferSize));
        memory = (byte*)NativeMemory.AlignedAlloc(size, 64);
        NativeMemory.Clear(memory, size);
        inbound = (Interop.Sys.MMsgHdr*)memory;
        outbound = inbound + capacity;
        vectors = (Interop.Sys.IoVec*)(memory + headers);
        addresses = memory + headers + iov;
        data = addresses + names;
        for (var i = 0; i < 2 * capacity; i++)
        {
            vectors[i].Base = data + ((long)i * bufferSize);
            vectors[i].Length = (nuint)bufferSize;
            var header = i < capacity ? &inbound[i].Header : &outbound[i - capacity].Header;
            header->Name = addresses + ((long)i * AddressSize);
            header->Iov = &vectors[i];
            header->IovLength = 1;
        }
    }

    /// <summary>Datagrams from the last <see cref="Receive"/>.</summary>
    public int Count => received;

    /// <summary>Blocks until a datagram arrives; takes every one already queued, up to the capacity.</summary>
    /// <returns>The number received (0 only when the socket was shut down).</returns>
    /// <exception cref="KernelException">The socket failed or was closed.</exception>
    public int Receive(SafeHandle socket)
    {
        for (var i = 0; i < capacity; i++)
        {
            inbound[i].Header.NameLength = AddressSize;
            inbound[i].Header.Flags = 0;
        }

        queued = 0;
        while (true)
        {
            var n = Interop.Sys.RecvMmsg(socket, inbound, (uint)capacity, Interop.Sys.MSG_WAITFORONE, null);
            if (n >= 0)
            {
                received = n;
                return n;
            }

            var errno = Errno.Last;
            if (errno != Errno.EINTR)
            {
                received = 0;
                throw new KernelException("recvmmsg", errno);
            }
        }
    }

    /// <summary>The <paramref name="index"/>th datagram received.</summary>
    public ReadOnlySpan<byte> Datagram(int index) => new(inbound[index].Header.Iov->Base, (int)Math.Min(inbound[index].Length, (uint)bufferSize));

    /// <summary>Whether the <paramref name="index"/>th datagram was larger than the buffer (only its start was kept).</summary>
    public bool Truncated(int index) => (inbound[index].Header.Flags & Interop.Sys.MSG_TRUNC) != 0;

    /// <summary>Its source: the raw sockaddr_in or sockaddr_in6.</summary>
    public ReadOnlySpan<byte> Source(int index) => new(inbound[index].Header.Name, (int)Math.Min(inbound[index].Header.NameLength, AddressSize));

    /// <summary>Where the next reply goes; <see cref="Queue"/> it once written.</summary>
    public Span<byte> NextReply() => new(outbound[queued].Header.Iov->Base, bufferSize);

    /// <summary>Queues the reply written into <see cref="NextReply"/> for the source of datagram <paramref name="index"/>.</summary>
    public void Queue(int index, int length)
    {
        ref var header = ref outbound[queued].Header;
        header.NameLength = inbound[index].Header.NameLength;
        new ReadOnlySpan<byte>(inbound[index].Header.Name, AddressSize).CopyTo(new Span<byte>(header.Name, AddressSize));
        header.Iov->Length = (nuint)length;
        queued++;
    }

    /// <summary>Sends the queued replies. A reply the kernel refuses (no buffer space, unreachable) is dropped, as UDP would.</summary>
    /// <returns>The number sent.</returns>
    public int Send(SafeHandle socket)
    {
        var sent = 0;
        var dropped = 0;
        while (sent + dropped < queued)
        {
            var offset = sent + dropped;
            var n = Interop.Sys.SendMmsg(socket, outbound + offset, (uint)(queued - offset), 0);
            if (n > 0)
            {
                sent += n;
            }
            else if (Errno.Last != Errno.EINTR)
            {
                dropped++;
            }
        }

        queued = 0;
        return sent;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            NativeMemory.AlignedFree(memory);
        }
    }
}
