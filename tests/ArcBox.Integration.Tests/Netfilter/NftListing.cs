using System.Text.Json;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>What the kernel holds in one table, read back with `nft -j list table`.</summary>
public sealed record NftListing(Dictionary<string, int> RulesPerChain, HashSet<string> Sets, HashSet<string> Counters, Dictionary<string, int> ElementsPerSet)
{
    public static NftListing Parse(string json)
    {
        var rules = new Dictionary<string, int>();
        var sets = new HashSet<string>();
        var counters = new HashSet<string>();
        var elements = new Dictionary<string, int>();
        using var doc = JsonDocument.Parse(json);
        foreach (var item in doc.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("chain", out var chain))
            {
                rules.TryAdd(chain.GetProperty("name").GetString()!, 0);
            }
            else if (item.TryGetProperty("rule", out var rule))
            {
                var name = rule.GetProperty("chain").GetString()!;
                rules[name] = rules.GetValueOrDefault(name) + 1;
            }
            else if (item.TryGetProperty("set", out var set) || item.TryGetProperty("map", out set))
            {
                var name = set.GetProperty("name").GetString()!;
                sets.Add(name);
                elements[name] = set.TryGetProperty("elem", out var elem) ? elem.GetArrayLength() : 0;
            }
            else if (item.TryGetProperty("counter", out var counter))
            {
                counters.Add(counter.GetProperty("name").GetString()!);
            }
        }

        return new NftListing(rules, sets, counters, elements);
    }
}
