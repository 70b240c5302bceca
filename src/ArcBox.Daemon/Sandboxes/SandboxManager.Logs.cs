using ArcBox.Daemon.Logging;
using ArcBox.Linux;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>One line of a sandbox's log: a flow (kind "flow") or a DNS query (kind "dns"), in time order.</summary>
/// <param name="Sequence">Its number among the entries of its kind, in the order they were added: followers ask
/// for what came after the highest flow and DNS numbers they have seen (see <see cref="LogCursor"/>).</param>
public sealed record LogEntry(
    DateTimeOffset Time,
    long Sequence,
    string Kind,
    string Sandbox,
    string Verdict,
    string? Direction = null,
    string? Protocol = null,
    string? Source = null,
    int? SourcePort = null,
    string? Destination = null,
    int? DestinationPort = null,
    string? RuleId = null,
    string? Name = null,
    string? Type = null,
    IReadOnlyList<string>? Answers = null)
{
    /// <summary>Denied: a dropped flow, or a DNS query the sandbox's policy refused.</summary>
    public bool Denied => Verdict is "drop" or "refused";
}

/// <summary>Where a follower of the log is: the highest flow and DNS sequence numbers it has seen ("FLOW:DNS").</summary>
public readonly record struct LogCursor(long Flow, long Dns)
{
    public static bool TryParse(string text, out LogCursor cursor)
    {
        cursor = default;
        var parts = text.Split(':');
        if (parts.Length != 2
            || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var flow)
            || !long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var dns))
        {
            return false;
        }

        cursor = new LogCursor(flow, dns);
        return true;
    }

    /// <summary>The cursor after these entries.</summary>
    public LogCursor After(IEnumerable<LogEntry> entries) => entries.Aggregate(this, (c, e) => e.Kind == "flow"
        ? c with { Flow = Math.Max(c.Flow, e.Sequence) }
        : c with { Dns = Math.Max(c.Dns, e.Sequence) });

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Flow}:{Dns}");
}

public sealed partial class SandboxManager
{
    private FlowLog? flowLog;
    private InterfaceIndex? interfaceIndex;

    public FlowLog? FlowLog => flowLog;

    private void StartFlowLog()
    {
        flowLog = new FlowLog(config.LogSize, SandboxOfInterface, problem => Hosting.Log.FlowLogProblem(log, problem));
        try
        {
            flowLog.Start((ushort)network.LogGroup);
        }
        catch (KernelException ex)
        {
            Hosting.Log.FlowLogUnavailable(log, network.LogGroup, ex.Message);
            flowLog.Dispose();
            flowLog = null;
        }
    }

    /// <summary>The sandbox whose host-side link this is: a map rebuilt only when the set of sandboxes changed
    /// (the flow log asks for every event).</summary>
    private string? SandboxOfInterface(string ifname)
    {
        var current = records;
        var index = Volatile.Read(ref interfaceIndex);
        if (index is null || !ReferenceEquals(index.Source, current))
        {
            index = new InterfaceIndex(current, current.Values.ToDictionary(r => r.Interface, r => r.Name, StringComparer.Ordinal));
            Volatile.Write(ref interfaceIndex, index);
        }

        return index.Names.GetValueOrDefault(ifname);
    }

    private sealed record InterfaceIndex(System.Collections.Immutable.ImmutableDictionary<string, ArcBox.Daemon.State.SandboxRecord> Source, Dictionary<string, string> Names);

    /// <summary>The cursor of the newest entries: a follower that starts here sees only what comes next.</summary>
    public LogCursor LogCursorNow => new(flowLog?.Last ?? 0, resolver?.Log.Last ?? 0);

    /// <summary>
    /// A sandbox's log (or every sandbox's): flows from the kernel and DNS queries from the resolver, in time order,
    /// those after <paramref name="after"/> only (for following), at most <paramref name="limit"/> of the newest.
    /// </summary>
    public IReadOnlyList<LogEntry> Logs(string? name, LogCursor? after, bool deniedOnly, int limit)
    {
        if (name is not null)
        {
            Get(name);
        }

        var cursor = after ?? default;
        var names = name is null ? [.. records.Keys] : new List<string> { name };
        var entries = new List<LogEntry>();
        foreach (var n in names)
        {
            foreach (var (sequence, f) in flowLog?.For(n, cursor.Flow) ?? [])
            {
                entries.Add(new LogEntry(f.Time, sequence, "flow", f.Sandbox, f.Verdict, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.RuleId));
            }

            foreach (var q in resolver?.Log.For(n) ?? [])
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
