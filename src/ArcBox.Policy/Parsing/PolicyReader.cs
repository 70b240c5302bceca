using System.Collections.Immutable;
using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

/// <summary>Walks the YAML tree of one policy, collecting every diagnostic instead of stopping at the first.</summary>
internal sealed partial class PolicyReader(string file, string source) : YamlReader(file)
{
    private static readonly string[] TopKeys = ["network"];
    private static readonly string[] NetworkKeys = ["outbound", "inbound", "dns", "bandwidth", "log"];
    private static readonly string[] LogModes = ["denied", "all", "none"];

    public SandboxPolicy? Read(YamlNode root)
    {
        var top = Mapping(root, "the policy", TopKeys);
        if (top is null)
        {
            return null;
        }

        ImmutableArray<Rule> outbound = [], inbound = [];
        var dns = DnsSettings.Empty;
        Bandwidth? bandwidth = null;
        var log = LogMode.Denied;

        if (!top.TryGetValue("network", out var network))
        {
            Error(root, "missing 'network:' section");
        }
        else if (!YamlLoader.IsNull(network.Value))
        {
            var sections = Mapping(network.Value, "'network'", NetworkKeys);
            if (sections is not null)
            {
                if (sections.TryGetValue("outbound", out var o))
                {
                    outbound = ReadRules(o.Value, Direction.Outbound);
                }

                if (sections.TryGetValue("inbound", out var i))
                {
                    inbound = ReadRules(i.Value, Direction.Inbound);
                }

                if (sections.TryGetValue("dns", out var d))
                {
                    dns = ReadDns(d.Value);
                }

                if (sections.TryGetValue("bandwidth", out var b))
                {
                    bandwidth = ReadBandwidth(b.Value);
                }

                if (sections.TryGetValue("log", out var l))
                {
                    log = ReadLog(l.Value);
                }
            }
        }

        WarnDuplicates(outbound);
        WarnDuplicates(inbound);
        return HasErrors ? null : new SandboxPolicy(outbound, inbound, dns, bandwidth, log, source);
    }

    private LogMode ReadLog(YamlNode node)
    {
        var text = Scalar(node, "'log'");
        switch (text?.ToLowerInvariant())
        {
            case null:
                return LogMode.Denied;
            case "denied":
                return LogMode.Denied;
            case "all":
                return LogMode.All;
            case "none":
                return LogMode.None;
            default:
                Error(node, $"invalid log mode '{text}': expected denied, all or none{KeySuggestion.DidYouMean(text, LogModes)}");
                return LogMode.Denied;
        }
    }

    private Bandwidth? ReadBandwidth(YamlNode node)
    {
        if (YamlLoader.IsNull(node))
        {
            return null;
        }

        var map = Mapping(node, "'bandwidth'", ["egress", "ingress"]);
        if (map is null)
        {
            return null;
        }

        return new Bandwidth(ReadRate(map, "egress"), ReadRate(map, "ingress"));
    }

    private Rate? ReadRate(Dictionary<string, Entry> map, string key)
    {
        if (!map.TryGetValue(key, out var entry))
        {
            return null;
        }

        var text = Scalar(entry.Value, $"'{key}'");
        if (text is null)
        {
            Error(entry.Value, $"'{key}' needs a rate such as 500kbit, 10mbit or 1gbit");
            return null;
        }

        if (!Rate.TryParse(text, out var rate, out var error))
        {
            Error(entry.Value, error);
            return null;
        }

        return rate;
    }

    private void WarnDuplicates(ImmutableArray<Rule> rules)
    {
        var seen = new Dictionary<string, Rule>();
        foreach (var rule in rules)
        {
            var key = string.Join('|', rule.Protocol, string.Join(',', rule.Ports.OrderBy(p => p.First)), string.Join(',', rule.Targets.Select(t => t.ToString()).Order()), string.Join(',', rule.Domains.Select(d => d.ToString()).Order()));
            if (seen.TryGetValue(key, out var first))
            {
                Warning(rule.Location, $"rule {rule.Id} duplicates {first.Id}");
            }
            else
            {
                seen[key] = rule;
            }
        }
    }
}
