using ArcBox.Daemon.Logging;
using ArcBox.Linux;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>One line of a sandbox's log: a flow (kind "flow") or a DNS query (kind "dns"), in time order.</summary>
public sealed record LogEntry(
    DateTimeOffset Time,
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

public sealed partial class SandboxManager
{
    private FlowLog? flowLog;
    private InterfaceIndex? interfaceIndex;

    public FlowLog? FlowLog => flowLog;

    private void StartFlowLog()
    {
        flowLog = new FlowLog(config.LogSize, SandboxOfInterface);
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

    /// <summary>
    /// A sandbox's log (or every sandbox's): flows from the kernel and DNS queries from the resolver, oldest first,
    /// those after <paramref name="after"/> only (for following), at most <paramref name="limit"/> of the newest.
    /// </summary>
    public IReadOnlyList<LogEntry> Logs(string? name, DateTimeOffset? after, bool deniedOnly, int limit)
    {
        if (name is not null)
        {
            Get(name);
        }

        var names = name is null ? [.. records.Keys] : new List<string> { name };
        var entries = new List<LogEntry>();
        foreach (var n in names)
        {
            foreach (var f in flowLog?.For(n) ?? [])
            {
                entries.Add(new LogEntry(f.Time, "flow", f.Sandbox, f.Verdict, f.Direction, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.RuleId));
            }

            foreach (var q in resolver?.Log.For(n) ?? [])
            {
                entries.Add(new LogEntry(q.Time, "dns", q.Sandbox, q.Verdict, "out", "dns", Name: q.Name, Type: q.Type, Answers: q.Answers));
            }
        }

        return [.. entries
            .Where(e => (after is null || e.Time > after) && (!deniedOnly || e.Denied))
            .OrderBy(e => e.Time)
            .TakeLast(limit)];
    }
}
