using System.Text.Json;
using ArcBox.Netfilter.Plan;

namespace ArcBox.Netfilter.Counters;

/// <summary>What one policy rule of one sandbox counted, in one direction, with the verdict it gives.</summary>
/// <param name="Direction">"out" (from the sandbox, to the network or the host) or "in" (to the sandbox).</param>
/// <param name="RuleId">The policy rule ("outbound[0]", "inbound[2]") or "default" (the default deny).</param>
/// <param name="Verdict">"allow" or "drop".</param>
public sealed record RuleCounter(string Sandbox, string Direction, string RuleId, string Verdict, long Packets, long Bytes);

/// <summary>
/// Reads the per-rule counters out of `nft -j list table` output (pure). Every policy rule carries its rule id as its
/// comment and an anonymous counter; the rules one policy rule expands to (ports, addresses, address families) are
/// summed under that id. Per-sandbox chains: sb_NAME_out and sb_NAME_host are the sandbox's outbound, sb_NAME_in
/// and sb_NAME_hostin its inbound.
/// </summary>
public static class RuleCounters
{
    public static List<RuleCounter> Parse(string nftJson, string? onlySandbox = null)
    {
        var sums = new Dictionary<(string, string, string, string), (long Packets, long Bytes)>();
        using var doc = JsonDocument.Parse(nftJson);
        foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("rule", out var rule)
                || !rule.TryGetProperty("comment", out var comment)
                || rule.GetProperty("chain").GetString() is not { } chain
                || ObjectNames.SandboxOf(chain) is not { } sandbox
                || (onlySandbox is not null && sandbox != onlySandbox)
                || DirectionOf(chain, sandbox) is not { } direction)
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

            // Rules without a counter (the unlogged tail of a rate-limited log rule) were counted by the rule before.
            if (packets is null || verdict is null)
            {
                continue;
            }

            var key = (sandbox, direction, comment.GetString() ?? "", verdict);
            var sum = sums.GetValueOrDefault(key);
            sums[key] = (sum.Packets + packets.Value, sum.Bytes + bytes!.Value);
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
