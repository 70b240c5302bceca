using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ArcBox.Netfilter.Wire;

/// <summary>
/// Turns the nft text of a sandbox rule, as <see cref="Compiler.SandboxCompiler"/> writes it, into the expressions
/// nft itself would send for it (same order, same dependencies, same encodings), so that `nft list` shows a rule
/// added this way exactly as if nft had added it. Only the grammar the compiler emits is understood; anything else
/// is a <see cref="NotSupportedException"/>, and the caller applies that change through libnftables instead.
/// </summary>
public static class RuleLinearizer
{
    private const int IfNameSize = 16;

    public static ImmutableArray<NftExpression> Linearize(string rule)
    {
        var tokens = Tokenize(rule);
        var output = ImmutableArray.CreateBuilder<NftExpression>();
        var i = 0;
        string? Next() => i < tokens.Count ? tokens[i++] : null;
        string Expect() => Next() ?? throw Unsupported(rule, "unexpected end");

        while (Next() is { } token)
        {
            switch (token)
            {
                case "meta":
                    if (Expect() != "l4proto")
                    {
                        throw Unsupported(rule, "meta key");
                    }

                    output.Add(new MetaLoad(MetaLoad.L4Proto));
                    var proto = Expect();
                    output.Add(proto.StartsWith('@') ? new Lookup(proto[1..], false) : new Compare(Compare.Eq, [Protocol(rule, proto)]));
                    break;
                case "tcp" or "udp":
                    output.Add(new MetaLoad(MetaLoad.L4Proto));
                    output.Add(new Compare(Compare.Eq, [Protocol(rule, token)]));
                    Port(rule, Expect(), Expect(), output);
                    break;
                case "th":
                    Port(rule, Expect(), Expect(), output);
                    break;
                case "ip" or "ip6":
                    Address(rule, token == "ip6", Expect(), Expect(), () => Expect(), output);
                    break;
                case "iifname" or "oifname":
                    output.Add(new MetaLoad(token == "iifname" ? MetaLoad.IifName : MetaLoad.OifName));
                    output.Add(new Compare(Compare.Eq, IfName(rule, Expect())));
                    break;
                case "counter":
                    output.Add(new CounterExpr());
                    break;
                case "limit":
                    output.Add(LimitOf(rule, Expect(), Expect(), Expect(), Expect(), Expect()));
                    break;
                case "log":
                    if (Expect() != "prefix")
                    {
                        throw Unsupported(rule, "log without prefix");
                    }

                    var prefix = Unquote(rule, Expect());
                    if (Expect() != "group")
                    {
                        throw Unsupported(rule, "log without group");
                    }

                    output.Add(new Log(prefix, ushort.Parse(Expect(), CultureInfo.InvariantCulture)));
                    break;
                case "accept":
                    output.Add(new Verdict(Verdict.Accept));
                    break;
                case "drop":
                    output.Add(new Verdict(Verdict.Drop));
                    break;
                case "return":
                    output.Add(new Verdict(Verdict.Return));
                    break;
                case "jump" or "goto":
                    output.Add(new Verdict(token == "jump" ? Verdict.Jump : Verdict.Goto, Expect()));
                    break;
                default:
                    throw Unsupported(rule, $"'{token}'");
            }
        }

        return output.ToImmutable();
    }

    /// <summary>An interface name as nft compares it: the whole IFNAMSIZ buffer, zero padded.</summary>
    public static ImmutableArray<byte> IfName(string rule, string quoted)
    {
        var name = Unquote(rule, quoted);
        var bytes = new byte[IfNameSize];
        if (name.Contains('*', StringComparison.Ordinal) || Encoding.ASCII.GetBytes(name, bytes) >= IfNameSize)
        {
            throw Unsupported(rule, $"interface name {quoted}");
        }

        return [.. bytes];
    }

    private static void Port(string rule, string field, string value, ImmutableArray<NftExpression>.Builder output)
    {
        if (field != "dport")
        {
            throw Unsupported(rule, $"port field '{field}'");
        }

        output.Add(new PayloadLoad(PayloadLoad.Transport, 2, 2));
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            output.Add(new Compare(Compare.Eq, Be16(rule, value)));
            return;
        }

        output.Add(new Compare(Compare.Gte, Be16(rule, value[..dash])));
        output.Add(new Compare(Compare.Lte, Be16(rule, value[(dash + 1)..])));
    }

    private static void Address(string rule, bool ipv6, string field, string value, Func<string> next, ImmutableArray<NftExpression>.Builder output)
    {
        uint offset = (ipv6, field) switch
        {
            (false, "saddr") => 12,
            (false, "daddr") => 16,
            (true, "saddr") => 8,
            (true, "daddr") => 24,
            _ => throw Unsupported(rule, $"address field '{field}'"),
        };
        var size = ipv6 ? 16u : 4u;
        output.Add(new MetaLoad(MetaLoad.NfProto));
        output.Add(new Compare(Compare.Eq, [ipv6 ? (byte)10 : (byte)2]));
        var invert = value == "!=";
        if (invert)
        {
            value = next();
        }

        if (value.StartsWith('@'))
        {
            output.Add(new PayloadLoad(PayloadLoad.Network, offset, size));
            output.Add(new Lookup(value[1..], invert));
            return;
        }

        if (invert)
        {
            throw Unsupported(rule, "negated address");
        }

        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? value : value[..slash], out var address)
            || (address.AddressFamily == AddressFamily.InterNetworkV6) != ipv6)
        {
            throw Unsupported(rule, $"address '{value}'");
        }

        var bytes = address.GetAddressBytes();
        var prefix = slash < 0 ? (int)size * 8 : int.Parse(value[(slash + 1)..], CultureInfo.InvariantCulture);
        if (prefix is > 0 && prefix % 8 == 0)
        {
            // A prefix on a byte boundary loads only its bytes (10.0.0.0/24 loads 3).
            output.Add(new PayloadLoad(PayloadLoad.Network, offset, (uint)(prefix / 8)));
            output.Add(new Compare(Compare.Eq, [.. bytes.AsSpan(0, prefix / 8)]));
            return;
        }

        var mask = new byte[size];
        for (var b = 0; b < prefix; b++)
        {
            mask[b / 8] |= (byte)(0x80 >> (b % 8));
        }

        for (var b = 0; b < size; b++)
        {
            bytes[b] &= mask[b];
        }

        output.Add(new PayloadLoad(PayloadLoad.Network, offset, size));
        output.Add(new Bitwise([.. mask], [.. new byte[size]]));
        output.Add(new Compare(Compare.Eq, [.. bytes]));
    }

    private static Limit LimitOf(string rule, string rate, string value, string burst, string burstValue, string unit)
    {
        // limit rate 20/second burst 40 packets
        var parts = value.Split('/');
        if (rate != "rate" || burst != "burst" || unit != "packets" || parts.Length != 2 || parts[1] != "second")
        {
            throw Unsupported(rule, "limit");
        }

        return new Limit(ulong.Parse(parts[0], CultureInfo.InvariantCulture), 1, uint.Parse(burstValue, CultureInfo.InvariantCulture));
    }

    private static byte Protocol(string rule, string name) => name switch
    {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "ipv6-icmp" => 58,
        _ => throw Unsupported(rule, $"protocol '{name}'"),
    };

    private static ImmutableArray<byte> Be16(string rule, string text)
    {
        if (!ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw Unsupported(rule, $"port '{text}'");
        }

        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, port);
        return [.. bytes];
    }

    private static string Unquote(string rule, string token) =>
        token.Length >= 2 && token[0] == '"' && token[^1] == '"' ? token[1..^1] : throw Unsupported(rule, $"expected a quoted string, got {token}");

    private static List<string> Tokenize(string rule)
    {
        var tokens = new List<string>();
        var i = 0;
        while (i < rule.Length)
        {
            if (rule[i] == ' ')
            {
                i++;
                continue;
            }

            var start = i;
            if (rule[i] == '"')
            {
                var end = rule.IndexOf('"', i + 1);
                if (end < 0)
                {
                    throw Unsupported(rule, "unterminated string");
                }

                i = end + 1;
            }
            else
            {
                while (i < rule.Length && rule[i] != ' ')
                {
                    i++;
                }
            }

            tokens.Add(rule[start..i]);
        }

        return tokens;
    }

    private static NotSupportedException Unsupported(string rule, string what) => new($"cannot write '{rule}' as netlink: {what}");
}
