using System.Text.Json;
using System.Text.Json.Nodes;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Rendering;

/// <summary>The compiled plan as JSON: for tools that want each policy rule with the nft rules it became.</summary>
public static class PlanJson
{
    public static JsonObject Render(NetworkConfig network, SandboxPlan plan)
    {
        var id = plan.Identity;
        var rules = new JsonArray();
        foreach (var rule in plan.Policy.Outbound.Concat(plan.Policy.Inbound))
        {
            rules.Add(new JsonObject
            {
                ["id"] = rule.Id,
                ["direction"] = rule.Direction == Direction.Outbound ? "outbound" : "inbound",
                ["protocol"] = rule.Protocol.ToString().ToLowerInvariant(),
                ["ports"] = new JsonArray([.. rule.Ports.Select(p => JsonValue.Create(p.ToString()))]),
                ["peers"] = new JsonArray([.. rule.Targets.Select(t => JsonValue.Create(t.ToString()))]),
                ["domains"] = new JsonArray([.. rule.Domains.Select(d => JsonValue.Create(d.ToString()))]),
                ["nft"] = new JsonArray([.. plan.Chains.SelectMany(c => c.Rules.Where(r => r.Comment == rule.Id).Select(r => JsonValue.Create($"{c.Name}: {r.Text}")))]),
            });
        }

        return new JsonObject
        {
            ["table"] = network.Table,
            ["sandbox"] = new JsonObject
            {
                ["name"] = id.Name,
                ["interface"] = id.Interface,
                ["ipv4"] = id.Ipv4.ToString(),
                ["ipv6"] = id.Ipv6?.ToString(),
                ["mac"] = id.Mac,
            },
            ["log"] = plan.Policy.Log.ToString().ToLowerInvariant(),
            ["rules"] = rules,
            ["chains"] = new JsonArray([.. plan.Chains.Select(c => JsonValue.Create(c.Name))]),
            ["sets"] = new JsonArray([.. plan.Sets.Select(s => JsonValue.Create(s.Name))]),
        };
    }

    public static string Serialize(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
}
