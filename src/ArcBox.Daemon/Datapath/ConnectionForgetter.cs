using System.Net;
using ArcBox.Linux;
using ArcBox.Linux.Netlink;

namespace ArcBox.Daemon.Datapath;

/// <summary>
/// Forgets the tracked connections of sandboxes whose policy changed or that were removed, after the request that
/// asked for it has been answered. Any walk of the conntrack table visits every bucket of the kernel's hash (2-3 ms
/// for 262,144 buckets, empty or not) and sweeps the caches. Run right after each request, it slowed the next one:
/// policy swaps took 2 ms inside the daemon and 5-7 ms at a client sending them back to back. So the walker has a
/// thread of its own at a lower priority, waits for a quiet moment (no change request for <see cref="Quiet"/>), but
/// never longer than <see cref="MaxDelay"/>, and one walk serves every sandbox queued until then. A namespace that
/// tracks no connection at all is not walked. A create that gets an address still queued walks at once
/// (<see cref="Settle"/>).
/// </summary>
public sealed class ConnectionForgetter : IConnectionForgetter, IDisposable
{
    /// <summary>How long no change request must have run before a walk starts.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a queued sandbox waits at most for its walk, however busy the daemon is.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);

    private const int Nice = 10;
    private readonly Conntrack conntrack = Conntrack.Open();
    private readonly Action<string> problem;
    private readonly Thread thread;
    private readonly object gate = new();
    private readonly HashSet<IPAddress> pending = [];
    private readonly List<string> owners = [];
    private IPAddress[] walking = [];
    private long queued;
    private long finished;
    private bool urgent;
    private long oldestQueued;
    private long lastActivity;
    private int inFlight;
    private bool stopping;

    /// <param name="problem">Told what went wrong when a walk fails (the daemon logs it; the next walk goes on).</param>
    public ConnectionForgetter(Action<string> problem)
    {
        this.problem = problem;
        // Created by the daemon's own thread: the walker inherits the daemon's namespace.
        thread = new Thread(Run) { IsBackground = true, Name = "arcbox-conntrack" };
        thread.Start();
    }

    /// <summary>Queues the connections of <paramref name="sandbox"/> (any with one of its addresses) to be forgotten.</summary>
    public void Forget(string sandbox, IEnumerable<IPAddress> addresses)
    {
        lock (gate)
        {
            if (pending.Count == 0)
            {
                oldestQueued = Environment.TickCount64;
            }

            pending.UnionWith(addresses);
            owners.Add(sandbox);
            queued++;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>
    /// Returns once no connection of <paramref name="addresses"/> waits to be forgotten: a sandbox that gets an
    /// address an rm just freed (create --ip) must not inherit the old owner's connections. Walks at once if need be.
    /// </summary>
    public void Settle(IReadOnlyCollection<IPAddress> addresses)
    {
        lock (gate)
        {
            if (!addresses.Any(a => pending.Contains(a) || walking.Contains(a)))
            {
                return;
            }

            var target = queued;
            urgent = true;
            Monitor.PulseAll(gate);
            var deadline = Environment.TickCount64 + 5000;
            while (finished < target && thread.IsAlive && Environment.TickCount64 < deadline)
            {
                Monitor.Wait(gate, 100);
            }
        }
    }

    /// <summary>A change request starts: no walk begins until it ended and the daemon was quiet for a moment.</summary>
    public void RequestStarted()
    {
        lock (gate)
        {
            inFlight++;
            lastActivity = Environment.TickCount64;
        }
    }

    public void RequestEnded()
    {
        lock (gate)
        {
            inFlight--;
            lastActivity = Environment.TickCount64;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>Walks once more for what is queued (for at most five seconds), then stops.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            stopping = true;
            Monitor.PulseAll(gate);
        }

        if (thread.Join(TimeSpan.FromSeconds(5)))
        {
            conntrack.Dispose();
        }
    }

    private void Run()
    {
        try
        {
            CurrentThread.SetNice(Nice);
        }
        catch (KernelException ex)
        {
            problem($"forget connections: cannot lower the walker's priority, it runs at the daemon's: {ex.Message}");
        }

        while (Next() is { } batch)
        {
            var walked = batch.Queued;
            try
            {
                if (Conntrack.TrackedCount() != 0)
                {
                    conntrack.Forget(batch.Addresses);
                }
            }
            catch (Exception ex)
            {
                // Never the end of the walker (nor of the daemon): the next request walks again.
                problem($"forget connections of {string.Join(", ", batch.Owners.Distinct())}: {ex.Message}");
            }

            lock (gate)
            {
                finished = walked;
                walking = [];
                Monitor.PulseAll(gate);
            }
        }
    }

    /// <summary>Waits for work and for the moment to do it; null when stopping with nothing queued.</summary>
    private (IPAddress[] Addresses, string[] Owners, long Queued)? Next()
    {
        lock (gate)
        {
            while (true)
            {
                if (pending.Count == 0)
                {
                    if (stopping)
                    {
                        return null;
                    }

                    Monitor.Wait(gate);
                    continue;
                }

                var now = Environment.TickCount64;
                var quietFor = inFlight > 0 ? 0 : now - lastActivity;
                var waited = now - oldestQueued;
                if (stopping || urgent || quietFor >= (long)Quiet.TotalMilliseconds || waited >= (long)MaxDelay.TotalMilliseconds)
                {
                    walking = [.. pending];
                    var batch = (walking, owners.ToArray(), queued);
                    urgent = false;
                    pending.Clear();
                    owners.Clear();
                    return batch;
                }

                var wait = (long)MaxDelay.TotalMilliseconds - waited;
                if (inFlight == 0)
                {
                    wait = Math.Min(wait, (long)Quiet.TotalMilliseconds - quietFor);
                }

                Monitor.Wait(gate, TimeSpan.FromMilliseconds(Math.Max(1, wait)));
            }
        }
    }
}
