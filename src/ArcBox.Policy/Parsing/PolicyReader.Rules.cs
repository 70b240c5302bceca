using System.Collections.Immutable;
using ArcBox.Policy.Model;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

internal sealed partial class PolicyReader
{
    private static readonly string[] OutboundKeys = ["protocol", "port", "ports", "to", "domains"];
    private static readonly string[] InboundKeys = ["protocol", "port", "ports", "from"];
    private static readonly string[] Protocols = ["tcp", "udp", "icmp", "any"];

    private ImmutableArray<Rule> ReadRules(YamlNode node, Direction direction)
    {
        var section = direction == Direction.Outbound ? "outbound" : "inbound";
        if (YamlLoader.IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            Error(node, $"'{section}' must be a list of rules (each starting with '- '), not {Describe(node)}");
            return [];
        }

        var rules = ImmutableArray.CreateBuilder<Rule>();
        for (var i = 0; i < list.Children.Count; i++)
        {
            var rule = ReadRule(list.Children[i], $"{section}[{i}]", direction);
            if (rule is not null)
            {
                rules.Add(rule);
            }
        }

        return rules.ToImmutable();
    }

    private Rule? ReadRule(YamlNode node, string id, Direction direction)
    {
        var outbound = direction == Direction.Outbound;
        var map = Mapping(node, $"rule {id}", outbound ? OutboundKeys : InboundKeys, key => (outbound, key) switch
        {
            (true, "from") => $"'from' is not allowed in outbound rule {id}; an outbound rule names its destinations with 'to'",
            (false, "to") => $"'to' is not allowed in inbound rule {id}; an inbound rule names its sources with 'from'",
            (false, "domains") => $"'domains' is not allowed in inbound rule {id}; domains only name outbound destinations",
            _ => null,
        });
        if (map is null)
        {
            return null;
        }

        var errorsBefore = ErrorCount;
        var protocol = Protocol.Any;
        if (map.TryGetValue("protocol", out var p))
        {
            protocol = ReadProtocol(p.Value, id);
        }

        var ports = ImmutableArray<PortRange>.Empty;
        if (map.TryGetValue("port", out var port) && map.TryGetValue("ports", out var portsEntry))
        {
            var second = port.Key.Start.CompareTo(portsEntry.Key.Start) > 0 ? port.Key : portsEntry.Key;
            Error(second, $"rule {id} has both 'port' and 'ports'; use one of them");
        }
        else if (map.TryGetValue("port", out port))
        {
            ports = ReadPorts(port.Value, id, single: true);
        }
        else if (map.TryGetValue("ports", out portsEntry))
        {
            ports = ReadPorts(portsEntry.Value, id, single: false);
        }

        if (protocol == Protocol.Icmp && !ports.IsEmpty)
        {
            var portKey = map.TryGetValue("port", out var pk) ? pk.Key : map["ports"].Key;
            Error(portKey, $"rule {id} has protocol icmp, which has no ports; remove the port or use tcp or udp");
        }

        var targets = ImmutableArray<Target>.Empty;
        var targetKey = outbound ? "to" : "from";
        if (map.TryGetValue(targetKey, out var t))
        {
            targets = ReadTargets(t.Value, $"'{targetKey}' of rule {id}");
        }

        var domains = ImmutableArray<DomainPattern>.Empty;
        if (outbound && map.TryGetValue("domains", out var d))
        {
            domains = ReadDomainPatterns(d.Value, $"'domains' of rule {id}", requireQualified: true);
        }

        if (targets.IsEmpty && domains.IsEmpty)
        {
            targets = [Target.Internet];
        }

        if (ErrorCount != errorsBefore)
        {
            return null;
        }

        return new Rule(id, direction, protocol, ports, targets, domains, At(node));
    }

    private Protocol ReadProtocol(YamlNode node, string id)
    {
        var text = Scalar(node, $"'protocol' of rule {id}");
        switch (text?.ToLowerInvariant())
        {
            case null:
                return Protocol.Any;
            case "tcp":
                return Protocol.Tcp;
            case "udp":
                return Protocol.Udp;
            case "icmp" or "icmpv6":
                return Protocol.Icmp;
            case "any":
                return Protocol.Any;
            default:
                Error(node, $"unknown protocol '{text}' in rule {id}: expected tcp, udp, icmp or any{KeySuggestion.DidYouMean(text, Protocols)}");
                return Protocol.Any;
        }
    }

    private ImmutableArray<PortRange> ReadPorts(YamlNode node, string id, bool single)
    {
        var what = single ? $"'port' of rule {id}" : $"'ports' of rule {id}";
        var items = new List<(string, YamlNode)>();
        if (single)
        {
            if (node is YamlSequenceNode)
            {
                Error(node, $"{what} must be one port or range; use 'ports: [...]' for a list");
                return [];
            }

            if (node is YamlMappingNode)
            {
                Error(node, $"{what} must be a port number or range such as 80 or \"8000-8080\", not a mapping");
                return [];
            }

            var text = Scalar(node, what);
            if (text is null)
            {
                Error(node, $"{what} is empty");
                return [];
            }

            items.Add((text, node));
        }
        else
        {
            if (node is not YamlSequenceNode)
            {
                Error(node, $"{what} must be a list such as [80, 443]; use 'port:' for a single port");
                return [];
            }

            items = ScalarOrList(node, what);
        }

        var ranges = ImmutableArray.CreateBuilder<PortRange>();
        foreach (var (text, itemNode) in items)
        {
            if (TryParsePortRange(text, out var range, out var error))
            {
                ranges.Add(range);
            }
            else
            {
                Error(itemNode, $"rule {id}: {error}");
            }
        }

        return ranges.ToImmutable();
    }

    internal static bool TryParsePortRange(string text, out PortRange range, out string error)
    {
        range = default;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!Addresses.TryParsePort(text, out var port, out error))
            {
                return false;
            }

            range = new PortRange(port, port);
            return true;
        }

        if (!Addresses.TryParsePort(text[..dash], out var first, out error) || !Addresses.TryParsePort(text[(dash + 1)..], out var last, out error))
        {
            error = error.StartsWith("port ", StringComparison.Ordinal) ? error : $"invalid port range '{text}': expected N-M with numbers 1-65535";
            return false;
        }

        if (first > last)
        {
            error = $"port range {first}-{last} is reversed; did you mean {last}-{first}?";
            return false;
        }

        range = new PortRange(first, last);
        return true;
    }
}
