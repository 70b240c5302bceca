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

    public FlowLog? FlowLog => flowLog;

    private void StartFlowLog()
    {
        flowLog = new FlowLog(config.LogSize, ifname => records.Values.FirstOrDefault(r => r.Interface == ifname)?.Name);
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
