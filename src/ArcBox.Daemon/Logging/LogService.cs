using ArcBox.Daemon.Config;
using ArcBox.Daemon.Dns;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Linux;
using ArcBox.Netfilter;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Logging;

/// <summary>
/// Every sandbox's log: flows from the kernel (NFLOG, each naming the rule that decided) and DNS queries from the
/// resolver, merged in time order, for `logs`, `logs --follow` and the event stream.
/// </summary>
public sealed class LogService(NetworkConfig network, int capacity, DnsService dns, Func<SandboxTable> table, ILogger log) : ISandboxObserver, IDisposable
{
    private FlowLog? flowLog;

    /// <summary>Flow events read from the kernel, and lost (the socket's buffer overran).</summary>
    public long FlowsReceived => flowLog?.Received ?? 0;

    public long FlowsLost => flowLog?.Lost ?? 0;

    /// <summary>The cursor of the newest entries: a follower that starts here sees only what comes next.</summary>
    public LogCursor CursorNow => new(flowLog?.Last ?? 0, dns.Log?.Last ?? 0);

    public void Start()
    {
        // The flow log asks for every event which sandbox an interface is: the table's index answers.
        var started = new FlowLog(capacity, ifname => table().OwnerOfInterface(ifname), problem => Hosting.Log.FlowLogProblem(log, problem));
        try
        {
            started.Start((ushort)network.LogGroup);
            flowLog = started;
        }
        catch (KernelException ex)
        {
            Hosting.Log.FlowLogUnavailable(log, network.LogGroup, ex.Message);
            started.Dispose();
        }
    }

    public void Removed(Sandbox sandbox) => flowLog?.Forget(sandbox.Name);

    public void Dispose() => flowLog?.Dispose();

    /// <summary>
    /// A sandbox's log (or every sandbox's): flows and DNS queries in time order, those after
    /// <paramref name="after"/> only (for following), at most <paramref name="limit"/> of the newest.
    /// </summary>
    public IReadOnlyList<LogEntry> Logs(string? name, LogCursor? after, bool deniedOnly, int limit)
    {
        var current = table();
        if (name is not null)
        {
            current.Get(name);
        }

        var cursor = after ?? default;
        var names = name is null ? [.. current.Names] : new List<string> { name };
        var entries = new List<LogEntry>();
        foreach (var n in names)
        {
            foreach (var (sequence, f) in flowLog?.For(n, cursor.Flow) ?? [])
            {
                entries.Add(new LogEntry(f.Time, sequence, "flow", f.Sandbox, f.Verdict, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.RuleId));
            }

            foreach (var q in dns.Log?.For(n) ?? [])
            {
                if (q.Sequence > cursor.Dns)
                {
                    entries.Add(new LogEntry(q.Time, q.Sequence, "dns", q.Sandbox, q.Verdict, "out", "dns", Name: q.Name, Type: q.Type, Answers: q.Answers));
                }
            }
        }

        return [.. entries
            .Where(e => !deniedOnly || e.Denied)
            .OrderBy(e => e.Time)
            .ThenBy(e => e.Sequence)
            .TakeLast(limit)];
    }
}
