using System.Collections.Immutable;
using System.Net;
using ArcBox.Policy.Model;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

internal sealed partial class PolicyReader
{
    private static readonly string[] DnsKeys = ["records", "resolve", "upstream"];
    private static readonly string[] RecordKinds = ["cname", "txt"];

    /// <summary>A TXT record holds character-strings of up to 255 bytes; we cap the whole value to keep answers in one UDP packet.</summary>
    internal const int MaxTxtLength = 1024;

    private DnsSettings ReadDns(YamlNode node)
    {
        if (YamlLoader.IsNull(node))
        {
            return DnsSettings.Empty;
        }

        var map = Mapping(node, "'dns'", DnsKeys);
        if (map is null)
        {
            return DnsSettings.Empty;
        }

        var records = map.TryGetValue("records", out var r) ? ReadRecords(r.Value) : [];
        var resolve = map.TryGetValue("resolve", out var res) ? ReadDomainPatterns(res.Value, "'dns.resolve'", requireQualified: false) : [];
        var upstream = ImmutableArray.CreateBuilder<IPEndPoint>();
        if (map.TryGetValue("upstream", out var u))
        {
            foreach (var (text, itemNode) in ScalarOrList(u.Value, "'dns.upstream'"))
            {
                if (Addresses.TryParseEndpoint(text, 53, out var endpoint, out var error))
                {
                    upstream.Add(endpoint);
                }
                else
                {
                    Error(itemNode, $"'dns.upstream': {error}");
                }
            }
        }

        return new DnsSettings(records, resolve, upstream.ToImmutable());
    }

    private ImmutableArray<DnsRecord> ReadRecords(YamlNode node)
    {
        if (YamlLoader.IsNull(node))
        {
            return [];
        }

        if (node is not YamlMappingNode map)
        {
            Error(node, $"'dns.records' must map names to addresses, such as 'db.internal: 10.0.0.5', not {Describe(node)}");
            return [];
        }

        var records = ImmutableArray.CreateBuilder<DnsRecord>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } nameText })
            {
                Error(keyNode, $"record names must be plain names, not {Describe(keyNode)}");
                continue;
            }

            if (!DomainNames.TryParsePattern(nameText, requireQualified: false, out var name, out var nameError))
            {
                Error(keyNode, nameError);
                continue;
            }

            if (!names.Add(name.ToString()))
            {
                Error(keyNode, $"duplicate record '{name}' in 'dns.records'; list several addresses as [a, b]");
                continue;
            }

            var record = ReadRecordValue(name, value, At(keyNode));
            if (record is not null)
            {
                records.Add(record);
            }
        }

        return records.ToImmutable();
    }

    private DnsRecord? ReadRecordValue(DomainPattern name, YamlNode value, Model.SourceLocation location)
    {
        var what = $"record '{name}'";
        if (value is YamlMappingNode)
        {
            var kinds = Mapping(value, what, RecordKinds);
            if (kinds is null)
            {
                return null;
            }

            if (kinds.Count != 1)
            {
                // An unknown key was already reported; say nothing more about this record.
                if (((YamlMappingNode)value).Children.Count == kinds.Count)
                {
                    Error(value, $"{what} must have exactly one of 'cname' or 'txt'");
                }

                return null;
            }

            var (kind, entry) = kinds.First();
            var text = Scalar(entry.Value, $"'{kind}' of {what}");
            if (text is null)
            {
                Error(entry.Value, $"'{kind}' of {what} is empty");
                return null;
            }

            if (kind == "cname")
            {
                if (!DomainNames.TryValidateName(text, out var cnameError))
                {
                    Error(entry.Value, $"invalid cname '{text}' of {what}: {cnameError}");
                    return null;
                }

                return new DnsRecord(name, [], DomainPattern.Normalize(text), null, location);
            }

            if (System.Text.Encoding.UTF8.GetByteCount(text) > MaxTxtLength)
            {
                Error(entry.Value, $"txt of {what} is longer than {MaxTxtLength} bytes");
                return null;
            }

            return new DnsRecord(name, [], null, text, location);
        }

        var addresses = ImmutableArray.CreateBuilder<IPAddress>();
        foreach (var (text, itemNode) in ScalarOrList(value, what))
        {
            if (Addresses.TryParseAddress(text, out var address, out var error))
            {
                addresses.Add(address);
            }
            else
            {
                Error(itemNode, $"{what}: {error}");
            }
        }

        return addresses.Count == 0 ? null : new DnsRecord(name, addresses.ToImmutable(), null, null, location);
    }
}
