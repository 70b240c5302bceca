using ArcBox.Linux;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter.Logging;

namespace ArcBox.Daemon.Logging;

/// <summary>
/// The flow log: packets our rules log to the NFLOG group (denied connection attempts, and allowed new ones under
/// `log: all`), read on one background thread and kept in a bounded ring per sandbox. The kernel rate-limits
/// logging per rule, and drops messages this reader is too slow for (counted in <see cref="Lost"/>), so neither
/// a flood nor a slow daemon grows memory.
/// </summary>
public sealed class FlowLog(int capacity, Func<string, string?> sandboxOfInterface) : IDisposable
{
    private readonly Dictionary<string, Queue<FlowEvent>> rings = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private NflogSocket? socket;
    private Thread? reader;
    private long received;
    private long lost;

    /// <summary>Events read from the kernel since start.</summary>
    public long Received => Interlocked.Read(ref received);

    /// <summary>Batches the kernel dropped because the reader fell behind.</summary>
    public long Lost => Interlocked.Read(ref lost);

    /// <summary>Binds the group in the calling thread's namespace and starts reading.</summary>
    public void Start(ushort group)
    {
        socket = NflogSocket.Bind(group);
        reader = new Thread(Read) { IsBackground = true, Name = "arcbox-flowlog" };
        reader.Start();
    }

    public IReadOnlyList<FlowEvent> For(string sandbox)
    {
        lock (rings)
        {
            return rings.TryGetValue(sandbox, out var ring) ? [.. ring] : [];
        }
    }

    public void Forget(string sandbox)
    {
        lock (rings)
        {
            rings.Remove(sandbox);
        }
    }

    public void Add(FlowEvent e)
    {
        lock (rings)
        {
            if (!rings.TryGetValue(e.Sandbox, out var ring))
            {
                rings[e.Sandbox] = ring = new Queue<FlowEvent>();
            }

            ring.Enqueue(e);
            while (ring.Count > capacity)
            {
                ring.Dequeue();
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        reader?.Join(TimeSpan.FromSeconds(2));
        socket?.Dispose();
    }

    private void Read()
    {
        var packets = new List<NflogPacket>();
        while (!stop.IsCancellationRequested)
        {
            packets.Clear();
            try
            {
                if (!socket!.Receive(packets))
                {
                    Interlocked.Increment(ref lost);
                }
            }
            catch (KernelException)
            {
                // The socket is closing, or the kernel refused it: the rules keep dropping either way.
                return;
            }

            foreach (var p in packets)
            {
                if (FlowEvent.Parse(p.Prefix, p.Time, p.Payload, sandboxOfInterface) is { } e)
                {
                    Interlocked.Increment(ref received);
                    Add(e);
                }
            }
        }
    }
}
