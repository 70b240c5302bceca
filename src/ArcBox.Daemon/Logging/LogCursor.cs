namespace ArcBox.Daemon.Logging;

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
