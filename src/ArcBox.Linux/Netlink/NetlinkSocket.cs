using System.Buffers.Binary;
using ArcBox.Linux.SafeHandles;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket. It talks to the network namespace it was created in, from whichever thread uses it
/// (so a socket for a sandbox namespace is created on a namespace thread and then used anywhere).
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private readonly SafeFdHandle fd;
    private readonly Lock gate = new();
    private readonly byte[] receive = new byte[64 * 1024];
    private uint sequence;
    private int sendBuffer = 200 * 1024; // about net.core.wmem_default

    private NetlinkSocket(SafeFdHandle fd) => this.fd = fd;

    /// <summary>Opens a NETLINK_ROUTE socket in the calling thread's network namespace.</summary>
    public static NetlinkSocket Open() => Open(Interop.Sys.NETLINK_ROUTE);

    /// <summary>A NETLINK_NETFILTER socket in the calling thread's namespace (nf_tables, ctnetlink, NFLOG).</summary>
    public static NetlinkSocket OpenNetfilter() => Open(Interop.Sys.NETLINK_NETFILTER);

    /// <summary>A NETLINK_NETFILTER socket created in <paramref name="ns"/> (on its namespace thread), usable from anywhere.</summary>
    public static NetlinkSocket OpenNetfilterIn(Namespaces.NetworkNamespace ns) => ns.Run(OpenNetfilter, "open nfnetlink socket");

    /// <summary>Opens a netlink socket of <paramref name="protocol"/> (NETLINK_ROUTE, NETLINK_NETFILTER) here.</summary>
    public static unsafe NetlinkSocket Open(int protocol)
    {
        // new Socket((AddressFamily)16, ...) fails for netlink in .NET: create it with socket(2).
        var raw = Interop.Sys.Socket(Interop.Sys.AF_NETLINK, Interop.Sys.SOCK_RAW | Interop.Sys.SOCK_CLOEXEC, protocol);
        if (raw < 0)
        {
            throw KernelException.Last("open netlink socket");
        }

        var handle = new SafeFdHandle(raw);
        int one = 1;
        Interop.Sys.SetSockOpt(raw, Interop.Sys.SOL_NETLINK, Interop.Sys.NETLINK_EXT_ACK, &one, 4);
        return new NetlinkSocket(handle);
    }

    /// <summary>Sends a request and waits for its acknowledgement; a kernel error becomes a <see cref="KernelException"/>.</summary>
    public void Request(NetlinkMessage message, string operation)
    {
        lock (gate)
        {
            var seq = Send(message, NLM_F_ACK);
            while (true)
            {
                var n = Receive(operation);
                foreach (var (type, flags, msgSeq, payload) in Messages(receive.AsSpan(0, n)))
                {
                    if (msgSeq != seq || type != NLMSG_ERROR)
                    {
                        continue;
                    }

                    ThrowIfError(payload, flags, operation);
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Sends ready <paramref name="messages"/> as one nfnetlink batch (<see cref="NfnetlinkBatch"/>: one transaction,
    /// all or nothing). The kernel processes the whole batch, reports every failing message, and acknowledges the
    /// last one, which asks for it: its reply ends the batch. The first failure is thrown as a
    /// <see cref="KernelException"/> whose operation is that message's <paramref name="describe"/>.
    /// </summary>
    /// <param name="notification">Given the other replies to the batch (type, payload after the nlmsghdr): the
    /// notifications the kernel unicasts at commit for messages flagged NLM_F_ECHO, before the acknowledgement.</param>
    public void Batch(IReadOnlyList<ReadOnlyMemory<byte>> messages, ushort subsystem, Func<int, string> describe, Action<ushort, byte[]>? notification = null)
    {
        lock (gate)
        {
            var batch = NfnetlinkBatch.Frame(messages, subsystem, sequence + 1);
            sequence = batch.End;

            // The whole batch goes in one send (the kernel reads a batch from one buffer): make room for it.
            EnsureSendBuffer(batch.Bytes.Length);
            SendRaw(batch.Bytes);

            (int Index, byte[] Payload, ushort Flags)? failure = null;
            while (true)
            {
                int n;
                try
                {
                    n = Receive("batch acknowledgement");
                }
                catch (KernelException ex) when (ex.Errno == Errno.ENOBUFS)
                {
                    // More errors than the receive queue holds: the batch failed (errors are the only other
                    // replies), and nothing of it was applied.
                    Drain();
                    throw new KernelException($"{(failure is { } first ? describe(first.Index) : "the batch")} and more steps failed", Errno.ENOBUFS, inner: ex);
                }

                foreach (var (type, flags, msgSeq, payload) in Messages(receive.AsSpan(0, n)))
                {
                    if (type != NLMSG_ERROR)
                    {
                        // nf_tables sends its echoes at commit with sequence 0, before the last acknowledgement; this
                        // socket joins no group, so what else arrives now answers this batch.
                        if (notification is not null && (msgSeq == 0 || batch.IndexOf(msgSeq) is not null))
                        {
                            notification(type, payload);
                        }

                        continue;
                    }

                    if (msgSeq == batch.Begin)
                    {
                        // The kernel could not queue the errors (out of memory): the batch failed as a whole.
                        ThrowIfError(payload, flags, "the batch");
                        continue;
                    }

                    if (batch.IndexOf(msgSeq) is not { } index)
                    {
                        continue;
                    }

                    if (failure is null && BinaryPrimitives.ReadInt32LittleEndian(payload) != 0)
                    {
                        failure = (index, payload, flags);
                    }

                    if (msgSeq == batch.Last)
                    {
                        if (failure is { } f)
                        {
                            ThrowIfError(f.Payload, f.Flags, describe(f.Index));
                        }

                        return;
                    }
                }
            }
        }
    }

    /// <summary>Sends a dump request and returns each reply's payload (after the nlmsghdr).</summary>
    public List<byte[]> Dump(NetlinkMessage message, string operation)
    {
        lock (gate)
        {
            var seq = Send(message, NLM_F_DUMP);
            var replies = new List<byte[]>();
            while (true)
            {
                var n = Receive(operation);
                foreach (var (type, flags, msgSeq, payload) in Messages(receive.AsSpan(0, n)))
                {
                    if (msgSeq != seq)
                    {
                        continue;
                    }

                    if (type == NLMSG_DONE)
                    {
                        return replies;
                    }

                    if (type == NLMSG_ERROR)
                    {
                        ThrowIfError(payload, flags, operation);
                        return replies;
                    }

                    replies.Add(payload);
                }
            }
        }
    }

    /// <summary>A request whose reply is one message (RTM_GETLINK by name, for instance); null when the kernel says ENODEV/ENOENT.</summary>
    public byte[]? Get(NetlinkMessage message, string operation)
    {
        lock (gate)
        {
            var seq = Send(message, 0);
            while (true)
            {
                var n = Receive(operation);
                foreach (var (type, flags, msgSeq, payload) in Messages(receive.AsSpan(0, n)))
                {
                    if (msgSeq != seq)
                    {
                        continue;
                    }

                    if (type == NLMSG_ERROR)
                    {
                        var error = -BinaryPrimitives.ReadInt32LittleEndian(payload);
                        if (error == Errno.ENODEV.Value || error == Errno.ENOENT.Value)
                        {
                            return null;
                        }

                        ThrowIfError(payload, flags, operation);
                        return null;
                    }

                    return payload;
                }
            }
        }
    }

    public void Dispose() => fd.Dispose();

    /// <summary>Makes receives give up after <paramref name="timeout"/> (SO_RCVTIMEO), so a reader loop can stop.</summary>
    public unsafe void SetReceiveTimeout(TimeSpan timeout)
    {
        var tv = stackalloc long[2];
        tv[0] = (long)timeout.TotalSeconds;
        tv[1] = (long)(timeout.TotalMicroseconds % 1_000_000);
        if (Interop.Sys.SetSockOpt(fd.Fd, 1 /* SOL_SOCKET */, 20 /* SO_RCVTIMEO */, tv, 16) != 0)
        {
            throw KernelException.Last("set netlink receive timeout");
        }
    }

    /// <summary>
    /// Receives one datagram of unsolicited messages (events, logged packets) and returns them: type and payload.
    /// Empty when the receive timeout passed. Null when the kernel dropped messages because we were too slow
    /// (ENOBUFS): the socket stays usable.
    /// </summary>
    public unsafe List<(ushort Type, byte[] Payload)>? ReceiveEvents(string operation)
    {
        fixed (byte* p = receive)
        {
            var n = Interop.Sys.Recv(fd.Fd, p, (nuint)receive.Length, 0);
            if (n < 0)
            {
                var errno = Errno.Last;
                if (errno == Errno.EAGAIN || errno == Errno.EINTR)
                {
                    return [];
                }

                return errno == Errno.ENOBUFS ? null : throw new KernelException($"{operation} (netlink receive)", errno);
            }

            return [.. Messages(receive.AsSpan(0, (int)n)).Select(m => (m.Type, m.Payload))];
        }
    }

    // SO_SNDBUFFORCE (root) past net.core.wmem_max, as nft does for large rulesets.
    private unsafe void EnsureSendBuffer(int size)
    {
        if (size <= sendBuffer)
        {
            return;
        }

        var want = Math.Max(size * 2, 1 << 20);
        if (Interop.Sys.SetSockOpt(fd.Fd, 1 /* SOL_SOCKET */, 32 /* SO_SNDBUFFORCE */, &want, 4) != 0
            && Interop.Sys.SetSockOpt(fd.Fd, 1 /* SOL_SOCKET */, 7 /* SO_SNDBUF */, &want, 4) != 0)
        {
            throw KernelException.Last("set netlink send buffer");
        }

        sendBuffer = want;
    }

    // Whatever is queued, without waiting.
    private unsafe void Drain()
    {
        fixed (byte* p = receive)
        {
            while (Interop.Sys.Recv(fd.Fd, p, (nuint)receive.Length, 0x40 /* MSG_DONTWAIT */) > 0)
            {
            }
        }
    }

    private uint Send(NetlinkMessage message, ushort extraFlags)
    {
        var seq = ++sequence;
        var bytes = message.Finish(seq).ToArray();
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)(flags | extraFlags));
        SendRaw(bytes);
        return seq;
    }

    private unsafe void SendRaw(byte[] bytes)
    {
        fixed (byte* p = bytes)
        {
            if (Interop.Sys.Send(fd.Fd, p, (nuint)bytes.Length, 0) < 0)
            {
                throw KernelException.Last("netlink send");
            }
        }
    }

    private unsafe int Receive(string operation)
    {
        fixed (byte* p = receive)
        {
            while (true)
            {
                var n = Interop.Sys.Recv(fd.Fd, p, (nuint)receive.Length, 0);
                if (n >= 0)
                {
                    return (int)n;
                }

                var errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    throw new KernelException($"{operation} (netlink receive)", errno);
                }
            }
        }
    }

    internal static List<(ushort Type, ushort Flags, uint Seq, byte[] Payload)> Messages(ReadOnlySpan<byte> data)
    {
        var list = new List<(ushort, ushort, uint, byte[])>();
        while (data.Length >= HeaderLength)
        {
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (len < HeaderLength || len > data.Length)
            {
                break;
            }

            list.Add((BinaryPrimitives.ReadUInt16LittleEndian(data[4..]), BinaryPrimitives.ReadUInt16LittleEndian(data[6..]), BinaryPrimitives.ReadUInt32LittleEndian(data[8..]), data[HeaderLength..len].ToArray()));
            data = data[Math.Min(NetlinkMessage.Align(len), data.Length)..];
        }

        return list;
    }

    // NLMSG_ERROR payload: s32 -errno, the request's nlmsghdr (whole request unless capped), then extended-ack TLVs.
    internal static void ThrowIfError(byte[] payload, ushort flags, string operation)
    {
        var error = -BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (error == 0)
        {
            return;
        }

        string? detail = null;
        if ((flags & NLM_F_ACK_TLVS) != 0 && payload.Length >= 4 + HeaderLength)
        {
            var echoed = (flags & NLM_F_CAPPED) != 0 ? HeaderLength : (int)BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4));
            var offset = 4 + NetlinkMessage.Align(echoed);
            if (offset <= payload.Length && NetlinkAttributes.Parse(payload.AsSpan(offset)).TryGetValue(NLMSGERR_ATTR_MSG, out var msg))
            {
                detail = NetlinkAttributes.String(msg);
            }
        }

        throw new KernelException(operation, new Errno(error), detail);
    }
}
