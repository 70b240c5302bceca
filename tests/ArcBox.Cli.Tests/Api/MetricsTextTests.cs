using ArcBox.Daemon.Api;
using ArcBox.Daemon.Stats;
using ArcBox.Netfilter.Counters;

namespace ArcBox.Cli.Tests.Api;

public sealed class MetricsTextTests
{
    [Fact]
    public void Renders_the_prometheus_text_format_with_one_series_per_sandbox_and_rule()
    {
        var t = new TrafficTotals(3, 300);
        var stats = new[]
        {
            new SandboxStats("web", DateTimeOffset.UnixEpoch, new(10, 1000), new(20, 2000), t, t, t, t,
                [new RuleCounter("web", "out", "outbound[0]", "allow", 5, 500), new RuleCounter("web", "in", "default", "drop", 7, 700)]),
        };

        var text = MetricsText.Render(stats, 42, 1);

        Assert.Contains("# TYPE arcbox_sandboxes gauge\narcbox_sandboxes 1\n", text, StringComparison.Ordinal);
        Assert.Contains("arcbox_sandbox_sent_bytes_total{sandbox=\"web\"} 1000\n", text, StringComparison.Ordinal);
        Assert.Contains("arcbox_sandbox_received_packets_total{sandbox=\"web\"} 20\n", text, StringComparison.Ordinal);
        Assert.Contains("arcbox_rule_packets_total{sandbox=\"web\",direction=\"out\",rule=\"outbound[0]\",verdict=\"allow\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("arcbox_rule_bytes_total{sandbox=\"web\",direction=\"in\",rule=\"default\",verdict=\"drop\"} 700\n", text, StringComparison.Ordinal);
        Assert.Contains("arcbox_flow_events_total 42\n", text, StringComparison.Ordinal);
        Assert.Contains("arcbox_flow_event_batches_lost_total 1\n", text, StringComparison.Ordinal);
        Assert.Equal("a\\\\b\\\"c\\nd", MetricsText.Escape("a\\b\"c\nd"));
    }
}
