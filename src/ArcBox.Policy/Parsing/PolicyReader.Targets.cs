using System.Collections.Immutable;
using ArcBox.Policy.Model;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

internal sealed partial class PolicyReader
{
    private static readonly string[] TargetKeywords = ["host", "internet", "network", "sandbox:"];

    private ImmutableArray<Target> ReadTargets(YamlNode node, string what)
    {
        var targets = ImmutableArray.CreateBuilder<Target>();
        foreach (var (text, itemNode) in ScalarOrList(node, what))
        {
            if (TryParseTarget(text, out var target, out var error))
            {
                targets.Add(target);
                if (target is CidrTarget { Cidr: var cidr } && Evaluation.AddressRanges.CoveredPrivate(cidr) is { Count: > 0 } covered)
                {
                    Warning(At(itemNode), $"'{text}' covers {string.Join(", ", covered)}: this rule reaches them, except link-local and metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), which only a CIDR inside them reaches");
                }
            }
            else
            {
                Error(itemNode, error);
            }
        }

        return targets.ToImmutable();
    }

    /// <summary>An address or CIDR, <c>sandbox:NAME</c>, <c>host</c>, <c>internet</c> or <c>network</c>.</summary>
    public static bool TryParseTarget(string text, out Target target, out string error)
    {
        target = Target.Internet;
        var t = text.Trim();
        switch (t.ToLowerInvariant())
        {
            case "host":
                target = Target.Host;
                error = "";
                return true;
            case "internet":
                error = "";
                return true;
            case "network":
                target = Target.Network;
                error = "";
                return true;
        }

        if (t.StartsWith("sandbox:", StringComparison.OrdinalIgnoreCase))
        {
            var name = t["sandbox:".Length..];
            var problem = SandboxNames.Validate(name);
            if (problem is not null)
            {
                error = $"invalid target '{text}': {problem}";
                return false;
            }

            target = new SandboxTarget(name);
            error = "";
            return true;
        }

        var looksLikeAddress = t.Length > 0 && (char.IsAsciiDigit(t[0]) || t.Contains(':', StringComparison.Ordinal));
        if (looksLikeAddress)
        {
            if (!Addresses.TryParseNetwork(t, out var network, out error))
            {
                return false;
            }

            target = new CidrTarget(network);
            return true;
        }

        error = $"invalid target '{text}': expected an address, a CIDR, sandbox:NAME, host, internet or network{KeySuggestion.DidYouMean(t, TargetKeywords)}";
        return false;
    }

    private ImmutableArray<DomainPattern> ReadDomainPatterns(YamlNode node, string what, bool requireQualified)
    {
        var patterns = ImmutableArray.CreateBuilder<DomainPattern>();
        foreach (var (text, itemNode) in ScalarOrList(node, what))
        {
            if (DomainNames.TryParsePattern(text, requireQualified, out var pattern, out var error))
            {
                patterns.Add(pattern);
            }
            else
            {
                Error(itemNode, error);
            }
        }

        return patterns.ToImmutable();
    }
}
