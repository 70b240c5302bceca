namespace ArcBox.Daemon.Logging;

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
