using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Policy.Model;

namespace ArcBox.Dns.Lookup;

/// <summary>
/// One sandbox's view of DNS, without I/O: sandbox names (NAME.arcbox.internal, host.arcbox.internal), PTR for
/// their addresses, the policy's records (exact, then the longest wildcard), CNAMEs followed locally; anything
/// else goes upstream when the policy lets the sandbox resolve it, and is refused otherwise.
/// </summary>
public static class LocalResolver
{
    /// <summary>Local answers change with sandboxes and policies: clients should not keep them long.</summary>
    public const int LocalTtl = 5;

    private const int MaxChain = 8;

    public static LookupResult Lookup(ResolverSnapshot s, SandboxDnsView sandbox, DomainName name, RecordType type)
    {
        var records = new List<DnsRecordBase>();
        var current = name;
        for (var hop = 0; hop < MaxChain; hop++)
        {
            var text = Text(current);
            if (text == ResolverSnapshot.Zone || text.EndsWith("." + ResolverSnapshot.Zone, StringComparison.Ordinal))
            {
                return Zone(s, current, text, type, records);
            }

            if (text.EndsWith(".in-addr.arpa", StringComparison.Ordinal) || text.EndsWith(".ip6.arpa", StringComparison.Ordinal))
            {
                if (Reverse(s, current, text) is { } ptr)
                {
                    if (type is RecordType.Ptr or RecordType.Any)
                    {
                        records.Add(ptr);
                    }

                    return new LookupResult(LookupOutcome.Answer, records);
                }
            }

            var record = sandbox.Records.Find(text);
            if (record is null)
            {
                // The first name must be allowed upstream; a CNAME target comes from the policy itself.
                if (hop == 0 && !sandbox.MayResolveUpstream(text))
                {
                    return LookupResult.Refused;
                }

                return new LookupResult(LookupOutcome.Forward, records, current);
            }

            if (record.Cname is { } target)
            {
                var canonical = DomainName.Parse(target);
                records.Add(new CNameRecord(current, LocalTtl, canonical));
                if (type == RecordType.CName)
                {
                    return new LookupResult(LookupOutcome.Answer, records);
                }

                current = canonical;
                continue;
            }

            if (record.Txt is { } txt)
            {
                if (type is RecordType.Txt or RecordType.Any)
                {
                    records.Add(new TxtRecord(current, LocalTtl, Chunks(txt)));
                }

                return new LookupResult(LookupOutcome.Answer, records);
            }

            AddAddresses(records, current, record.Addresses, type);
            return new LookupResult(LookupOutcome.Answer, records);
        }

        // A CNAME loop in the policy: answer what we have rather than spin.
        return new LookupResult(LookupOutcome.Answer, records);
    }

    public static string Text(DomainName name) => DomainPattern.Normalize(name.ToString());

    private static LookupResult Zone(ResolverSnapshot s, DomainName name, string text, RecordType type, List<DnsRecordBase> records)
    {
        var label = text == ResolverSnapshot.Zone ? "" : text[..^(ResolverSnapshot.Zone.Length + 1)];
        IReadOnlyList<IPAddress> addresses;
        if (label == "host")
        {
            addresses = s.Gateway6 is { } g6 ? [s.Gateway4, g6] : [s.Gateway4];
        }
        else if (s.ByName.TryGetValue(label, out var other))
        {
            addresses = other.Addresses.Ipv6 is { } v6 ? [other.Addresses.Ipv4, v6] : [other.Addresses.Ipv4];
        }
        else if (label.Length == 0)
        {
            return new LookupResult(LookupOutcome.Answer, records);
        }
        else
        {
            return records.Count == 0 ? LookupResult.NxDomain : new LookupResult(LookupOutcome.NxDomain, records);
        }

        AddAddresses(records, name, addresses, type);
        return new LookupResult(LookupOutcome.Answer, records);
    }

    private static void AddAddresses(List<DnsRecordBase> records, DomainName name, IEnumerable<IPAddress> addresses, RecordType type)
    {
        foreach (var a in addresses)
        {
            if (a.AddressFamily == AddressFamily.InterNetwork && type is RecordType.A or RecordType.Any)
            {
                records.Add(new ARecord(name, LocalTtl, a));
            }
            else if (a.AddressFamily == AddressFamily.InterNetworkV6 && type is RecordType.Aaaa or RecordType.Any)
            {
                records.Add(new AaaaRecord(name, LocalTtl, a));
            }
        }
    }

    private static PtrRecord? Reverse(ResolverSnapshot s, DomainName name, string text)
    {
        var address = ParseReverse(text);
        if (address is null)
        {
            return null;
        }

        if (address.Equals(s.Gateway4) || address.Equals(s.Gateway6))
        {
            return new PtrRecord(name, LocalTtl, DomainName.Parse("host." + ResolverSnapshot.Zone));
        }

        return s.ByAddress.TryGetValue(address, out var sandbox)
            ? new PtrRecord(name, LocalTtl, DomainName.Parse($"{sandbox.Name}.{ResolverSnapshot.Zone}"))
            : null;
    }

    internal static IPAddress? ParseReverse(string text)
    {
        if (text.EndsWith(".in-addr.arpa", StringComparison.Ordinal))
        {
            var parts = text[..^".in-addr.arpa".Length].Split('.');
            return parts.Length == 4 && IPAddress.TryParse(string.Join('.', parts.Reverse()), out var v4) ? v4 : null;
        }

        var nibbles = text[..^".ip6.arpa".Length].Split('.');
        if (nibbles.Length != 32 || nibbles.Any(n => n.Length != 1 || !Uri.IsHexDigit(n[0])))
        {
            return null;
        }

        var hex = string.Concat(nibbles.Reverse());
        var bytes = Convert.FromHexString(hex);
        return new IPAddress(bytes);
    }

    /// <summary>TXT strings are at most 255 bytes each.</summary>
    private static IEnumerable<string> Chunks(string text)
    {
        for (var i = 0; i < text.Length; i += 255)
        {
            yield return text.Substring(i, Math.Min(255, text.Length - i));
        }
    }
}
