using System.Text.Json;
using ArcBox.Netfilter.Plan;

namespace ArcBox.Netfilter.Counters;

/// <summary>What one policy rule of one sandbox counted, in one direction, with the verdict it gives.</summary>
/// <param name="Direction">"out" (from the sandbox, to the network or the host) or "in" (to the sandbox).</param>
/// <param name="RuleId">The policy rule ("outbound[0]", "inbound[2]") or "default" (the default deny).</param>
/// <param name="Verdict">"allow" or "drop".</param>
public sealed record RuleCounter(string Sandbox, string Direction, string RuleId, string Verdict, long Packets, long Bytes);

/// <summary>One counted rule of our table as read from the kernel.</summary>
/// <param name="Verdict">"allow" (accept or return), "drop", or null (no verdict of its own).</param>
public sealed record CountedRule(string Chain, string? Comment, long Packets, long Bytes, string? Verdict);

/// <summary>
/// Sums the per-rule counters of our table by sandbox, direction, rule id and verdict (pure), from the kernel's
/// rules (a netlink dump in the daemon) or from `nft -j list table` output. Every policy rule carries its rule id as its
/// comment and an anonymous counter; the rules one policy rule expands to (ports, addresses, address families) are
/// summed under that id. Per-sandbox chains: sb_NAME_out and sb_NAME_host are the sandbox's outbound, sb_NAME_in
/// and sb_NAME_hostin its inbound.
/// </summary>
public static class RuleCounters
{
    /// <summary>Reads the counted rules out of `nft -j list table` output.</summary>
    public static List<RuleCounter> Parse(string nftJson, string? onlySandbox = null)
    {
        var rules = new List<CountedRule>();
        using var doc = JsonDocument.Parse(nftJson);
        foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("rule", out var rule))
            {
                continue;
            }

            long? packets = null, bytes = null;
            string? verdict = null;
            foreach (var expr in rule.GetProperty("expr").EnumerateArray())
            {
                if (expr.TryGetProperty("counter", out var counter) && counter.ValueKind == JsonValueKind.Object)
                {
                    packets = counter.GetProperty("packets").GetInt64();
                    bytes = counter.GetProperty("bytes").GetInt64();
                }
                else if (expr.TryGetProperty("accept", out _) || expr.TryGetProperty("return", out _))
                {
                    verdict = "allow";
                }
                else if (expr.TryGetProperty("drop", out _))
                {
                    verdict = "drop";
                }
            }

            if (packets is not null)
            {
                rules.Add(new CountedRule(rule.GetProperty("chain").GetString() ?? "", rule.TryGetProperty("comment", out var c) ? c.GetString() : null, packets.Value, bytes!.Value, verdict));
            }
        }

        return Aggregate(rules, onlySandbox);
    }

    public static List<RuleCounter> Aggregate(IEnumerable<CountedRule> rules, string? onlySandbox = null)
    {
        var sums = new Dictionary<(string, string, string, string), (long Packets, long Bytes)>();
        foreach (var rule in rules)
        {
            // Rules without a verdict or comment are not policy rules (or the unlogged tail of a log rule, counted
            // by the rule before it).
            if (rule.Comment is not { } comment
                || rule.Verdict is not { } verdict
                || ObjectNames.SandboxOf(rule.Chain) is not { } sandbox
                || (onlySandbox is not null && sandbox != onlySandbox)
                || DirectionOf(rule.Chain, sandbox) is not { } direction)
            {
                continue;
            }

            var key = (sandbox, direction, comment, verdict);
            var sum = sums.GetValueOrDefault(key);
            sums[key] = (sum.Packets + rule.Packets, sum.Bytes + rule.Bytes);
        }

        return [.. sums
            .Select(s => new RuleCounter(s.Key.Item1, s.Key.Item2, s.Key.Item3, s.Key.Item4, s.Value.Packets, s.Value.Bytes))
            .OrderBy(c => c.Sandbox, StringComparer.Ordinal)
            .ThenBy(c => c.Direction == "out" ? 0 : 1)
            .ThenBy(c => c.RuleId == "default" ? 1 : 0)
            .ThenBy(c => c.RuleId, StringComparer.Ordinal)];
    }

    private static string? DirectionOf(string chain, string sandbox) => chain[(ObjectNames.SandboxPrefix.Length + sandbox.Length + 1)..] switch
    {
        "out" or "host" => "out",
        "in" or "hostin" => "in",
        _ => null,
    };
}
