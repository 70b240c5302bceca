using ArcBox.Netfilter.Counters;

namespace ArcBox.Daemon.Stats;

/// <summary>
/// A sandbox's counters. Sent and Received are all its traffic, from its host-side link's counters (sent: what the
/// sandbox sent, arriving on that link). The per-rule counters count what reached the sandbox's chains: the
/// packets that open a connection (established traffic is accepted before them), and every dropped packet.
/// </summary>
public sealed record SandboxStats(
    string Name,
    DateTimeOffset Time,
    TrafficTotals Sent,
    TrafficTotals Received,
    TrafficTotals OutAllowed,
    TrafficTotals OutDropped,
    TrafficTotals InAllowed,
    TrafficTotals InDropped,
    IReadOnlyList<RuleCounter> Rules);
