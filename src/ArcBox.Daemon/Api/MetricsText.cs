using System.Globalization;
using System.Text;
using ArcBox.Daemon.Stats;

namespace ArcBox.Daemon.Api;

/// <summary>
/// The Prometheus text exposition (version 0.0.4) of the daemon's counters (pure). Names and labels are documented
/// in docs/operations.md; every counter is read from the kernel at scrape time.
/// </summary>
public static class MetricsText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(IReadOnlyList<SandboxStats> stats, long flowEvents, long flowBatchesLost)
    {
        var b = new StringBuilder();
        Header(b, "arcbox_sandboxes", "gauge", "Sandboxes the daemon manages.");
        Line(b, "arcbox_sandboxes", [], stats.Count);

        Family(b, "arcbox_sandbox_sent_bytes_total", "Bytes a sandbox sent (its host-side link's received bytes).", stats, s => s.Sent.Bytes);
        Family(b, "arcbox_sandbox_sent_packets_total", "Packets a sandbox sent.", stats, s => s.Sent.Packets);
        Family(b, "arcbox_sandbox_received_bytes_total", "Bytes delivered to a sandbox.", stats, s => s.Received.Bytes);
        Family(b, "arcbox_sandbox_received_packets_total", "Packets delivered to a sandbox.", stats, s => s.Received.Packets);

        Header(b, "arcbox_rule_packets_total", "counter", "Packets a policy rule decided: connection openings it allowed, every packet it dropped.");
        foreach (var s in stats)
        {
            foreach (var r in s.Rules)
            {
                Line(b, "arcbox_rule_packets_total", [("sandbox", s.Name), ("direction", r.Direction), ("rule", r.RuleId), ("verdict", r.Verdict)], r.Packets);
            }
        }

        Header(b, "arcbox_rule_bytes_total", "counter", "Bytes of the packets counted in arcbox_rule_packets_total.");
        foreach (var s in stats)
        {
            foreach (var r in s.Rules)
            {
                Line(b, "arcbox_rule_bytes_total", [("sandbox", s.Name), ("direction", r.Direction), ("rule", r.RuleId), ("verdict", r.Verdict)], r.Bytes);
            }
        }

        Header(b, "arcbox_flow_events_total", "counter", "Flow-log events read from the kernel.");
        Line(b, "arcbox_flow_events_total", [], flowEvents);
        Header(b, "arcbox_flow_event_batches_lost_total", "counter", "Batches of flow-log events the kernel dropped because the daemon read too slowly.");
        Line(b, "arcbox_flow_event_batches_lost_total", [], flowBatchesLost);
        return b.ToString();
    }

    private static void Family(StringBuilder b, string name, string help, IReadOnlyList<SandboxStats> stats, Func<SandboxStats, long> value)
    {
        Header(b, name, "counter", help);
        foreach (var s in stats)
        {
            Line(b, name, [("sandbox", s.Name)], value(s));
        }
    }

    private static void Header(StringBuilder b, string name, string type, string help) =>
        b.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder b, string name, (string Key, string Value)[] labels, long value)
    {
        b.Append(name);
        if (labels.Length > 0)
        {
            b.Append('{').AppendJoin(',', labels.Select(l => $"{l.Key}=\"{Escape(l.Value)}\"")).Append('}');
        }

        b.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Label values escape backslash, double quote and newline.</summary>
    public static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
