using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ArcBox.Netfilter.Plan;

namespace ArcBox.Netfilter.Wire;

/// <summary>
/// Spells incremental changes (<see cref="SandboxChanges"/>) as nf_tables netlink operations. The kernel gets the
/// same objects nft would have sent; what this does not know (a set type, a rule form) throws
/// <see cref="NotSupportedException"/> before anything is sent, and the caller uses libnftables for that change.
/// </summary>
public sealed class WireRenderer
{
    private readonly Dictionary<(string Family, string Set), NftSet> sets = new();

    /// <param name="basePlan">The shared sets and maps, whose types say how their elements are encoded.</param>
    public WireRenderer(BasePlan basePlan)
    {
        foreach (var set in basePlan.Sets)
        {
            sets[("inet", set.Name)] = set;
        }

        foreach (var set in basePlan.ArpSets)
        {
            sets[("arp", set.Name)] = set;
        }
    }

    /// <param name="own">The sets of the sandbox the changes are about (its domains sets).</param>
    public ImmutableArray<WireOperation> Render(IEnumerable<NftChange> changes, IEnumerable<NftSet> own)
    {
        var local = own.ToDictionary(s => s.Name, StringComparer.Ordinal);
        NftSet TypeOf(string family, string name) =>
            (family == "inet" && local.TryGetValue(name, out var s)) || sets.TryGetValue((family, name), out s)
                ? s
                : throw new NotSupportedException($"no type known for set {family} {name}");

        var ops = ImmutableArray.CreateBuilder<WireOperation>();
        foreach (var change in changes)
        {
            ops.Add(change switch
            {
                AddSetChange c => AddSet(c.Set),
                DeleteSetChange c => new WireDeleteSet("inet", c.Name),
                AddChainChange c => new WireAddChain("inet", c.Name),
                FlushChainChange c => new WireFlushChain("inet", c.Name),
                DeleteChainChange c => new WireDeleteChain("inet", c.Name),
                AddRuleChange c => new WireAddRule("inet", c.Chain, RuleLinearizer.Linearize(c.Rule.Text), c.Rule.Comment),
                AddElementsChange c => new WireElements(c.Family, c.Set, false, [.. c.Values.Select(v => Element(TypeOf(c.Family, c.Set), v))]),
                DeleteElementsChange c => new WireElements(c.Family, c.Set, true, [.. c.Keys.Select(v => Element(TypeOf(c.Family, c.Set), v))]),
                _ => throw new NotSupportedException($"change {change.GetType().Name}"),
            });
        }

        return ops.ToImmutable();
    }

    private static WireAddSet AddSet(NftSet set)
    {
        var (type, length) = set.Type switch
        {
            "type ipv4_addr" => (7u, 4u),
            "type ipv6_addr" => (8u, 16u),
            _ => throw new NotSupportedException($"set type '{set.Type}'"),
        };
        if (set.IsMap || set.Flags != "timeout" || set.Elements.Length > 0)
        {
            throw new NotSupportedException($"set {set.Name} with flags '{set.Flags}'");
        }

        return new WireAddSet("inet", set.Name, type, length, WireAddSet.FlagTimeout);
    }

    /// <summary>
    /// An element in nft's syntax ("key", "key : data", fields joined by " . ", "key timeout Ns") as key and data
    /// bytes. In a concatenation every field takes a multiple of 4 bytes, as in nft's 32-bit registers.
    /// </summary>
    public static WireElement Element(NftSet set, string value)
    {
        // nft sends each range of an interval set as two elements, its start and the address after it flagged
        // NFT_SET_ELEM_INTERVAL_END (and an end at 0.0.0.0 before the first range, tests/testdata/netlink): one key
        // alone would be a range without end. Only the ruleset load fills our interval sets, through libnftables.
        if (set.Flags is { } flags && flags.Contains("interval", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"elements of the interval set {set.Name}");
        }

        ulong? timeout = null;
        var timed = value.IndexOf(" timeout ", StringComparison.Ordinal);
        if (timed >= 0)
        {
            var seconds = value[(timed + " timeout ".Length)..];
            timeout = seconds.EndsWith('s') && ulong.TryParse(seconds.AsSpan(0, seconds.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                ? s * 1000
                : throw new NotSupportedException($"timeout '{seconds}'");
            value = value[..timed];
        }

        var type = set.Type.StartsWith("typeof ", StringComparison.Ordinal) ? set.Type["typeof ".Length..] : set.Type.StartsWith("type ", StringComparison.Ordinal) ? set.Type["type ".Length..] : throw new NotSupportedException($"set type '{set.Type}'");
        var colon = type.IndexOf(" : ", StringComparison.Ordinal);
        var keyTypes = (colon < 0 ? type : type[..colon]).Split(" . ");
        var arrow = value.IndexOf(" : ", StringComparison.Ordinal);
        var keyText = arrow < 0 ? value : value[..arrow];
        var key = Fields(keyTypes, keyText.Split(" . "));
        if (arrow < 0)
        {
            return new WireElement(key, TimeoutMilliseconds: timeout);
        }

        var dataType = colon < 0 ? throw new NotSupportedException($"data for set {set.Name}, which is not a map") : type[(colon + 3)..];
        var dataText = value[(arrow + 3)..];
        if (dataType == "verdict")
        {
            var parts = dataText.Split(' ');
            return parts is ["jump" or "goto", var chain]
                ? new WireElement(key, VerdictData: new Verdict(parts[0] == "jump" ? Verdict.Jump : Verdict.Goto, chain))
                : throw new NotSupportedException($"verdict '{dataText}'");
        }

        return new WireElement(key, Data: Fields(dataType.Split(" . "), dataText.Split(" . ")));
    }

    private static ImmutableArray<byte> Fields(string[] types, string[] values)
    {
        if (types.Length != values.Length)
        {
            throw new NotSupportedException($"element '{string.Join(" . ", values)}' does not fit '{string.Join(" . ", types)}'");
        }

        var concat = types.Length > 1;
        var bytes = new List<byte>();
        for (var i = 0; i < types.Length; i++)
        {
            var field = Field(types[i], values[i]);
            bytes.AddRange(field);
            if (concat)
            {
                bytes.AddRange(new byte[((field.Length + 3) & ~3) - field.Length]);
            }
        }

        return [.. bytes];
    }

    private static byte[] Field(string type, string value)
    {
        switch (type)
        {
            case "ifname" or "iifname" or "oifname":
                return [.. RuleLinearizer.IfName(value, value)];
            case "ipv4_addr" or "ipv6_addr":
                var address = IPAddress.Parse(value);
                if ((address.AddressFamily == AddressFamily.InterNetwork) != (type == "ipv4_addr"))
                {
                    throw new NotSupportedException($"address {value} in a {type} field");
                }

                return address.GetAddressBytes();
            case "ether_addr":
                var mac = value.Split(':');
                return mac.Length == 6 ? [.. mac.Select(b => byte.Parse(b, NumberStyles.HexNumber, CultureInfo.InvariantCulture))] : throw new NotSupportedException($"MAC address {value}");
            case "inet_proto":
                return value switch
                {
                    "tcp" => [6],
                    "udp" => [17],
                    _ => throw new NotSupportedException($"protocol {value}"),
                };
            case "inet_service":
                var port = new byte[2];
                BinaryPrimitives.WriteUInt16BigEndian(port, ushort.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture));
                return port;
            case "@th,64,128" when value.StartsWith("0x", StringComparison.Ordinal) && value.Length == 34:
                return Convert.FromHexString(value.AsSpan(2));
            default:
                throw new NotSupportedException($"field type '{type}'");
        }
    }
}
