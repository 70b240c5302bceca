using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Compiler;

/// <summary>Short per-rule keys ("o0", "i3") derived from rule ids, shared by the nft and iptables renderings.</summary>
public static class SandboxCompilerNames
{
    public static string Key(Rule rule)
    {
        var open = rule.Id.IndexOf('[', StringComparison.Ordinal);
        var index = int.Parse(rule.Id[(open + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
        return Plan.ObjectNames.RuleKey(rule.Direction, index);
    }
}
