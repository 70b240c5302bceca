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
/// <param name="problem">Told when the reader hits an error it survives (it keeps reading).</param>
public sealed class FlowLog(int capacity, Func<string, string?> sandboxOfInterface, Action<string> problem) : IDisposable
{
    private readonly Dictionary<string, Queue<(long Sequence, FlowEvent Event)>> rings = new(StringComparer.Ordinal);
    private long sequence;
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

    /// <summary>The sequence number of the newest event (events are numbered from 1 as they are added).</summary>
    public long Last => Interlocked.Read(ref sequence);

    /// <summary>A sandbox's events numbered above <paramref name="after"/>, oldest first.</summary>
    public IReadOnlyList<(long Sequence, FlowEvent Event)> For(string sandbox, long after = 0)
    {
        lock (rings)
        {
            return rings.TryGetValue(sandbox, out var ring) ? [.. ring.Where(e => e.Sequence > after)] : [];
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
                rings[e.Sandbox] = ring = new Queue<(long, FlowEvent)>();
            }

            ring.Enqueue((++sequence, e));
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

                foreach (var p in packets)
                {
                    if (FlowEvent.Parse(p.Prefix, p.Time, p.Payload, sandboxOfInterface) is { } e)
                    {
                        Interlocked.Increment(ref received);
                        Add(e);
                    }
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !stop.IsCancellationRequested)
            {
                // The rules keep dropping whatever happens here; the log goes on after a pause.
                problem(ex.Message);
                stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
