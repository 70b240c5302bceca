using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Dns.Lookup;

/// <summary>An address the firewall must admit for one outbound domains rule of a sandbox, for a while.</summary>
public sealed record Admission(Rule Rule, int RuleIndex, IPAddress Address, int TtlSeconds);

/// <summary>
/// Which answered addresses open which of a sandbox's domains rules: the A/AAAA records at the end of the CNAME
/// chain that starts at the asked name (records for any other name are ignored), public addresses only (no DNS
/// rebinding into private, loopback or link-local ranges), each for its TTL clamped to [min, max].
/// </summary>
public static class DomainAdmission
{
    public static IReadOnlyList<Admission> For(SandboxPolicy policy, DomainName asked, IEnumerable<DnsRecordBase> answers, int minTtl, int maxTtl)
    {
        if (!policy.Outbound.Any(r => !r.Domains.IsEmpty))
        {
            return [];
        }

        var askedText = LocalResolver.Text(asked);
        var rules = policy.Outbound.Select((rule, index) => (rule, index)).Where(r => r.rule.Domains.Any(d => d.Matches(askedText))).ToList();
        if (rules.Count == 0)
        {
            return [];
        }

        var list = answers.ToList();
        var chain = new HashSet<string>(StringComparer.Ordinal) { askedText };
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var cname in list.OfType<CNameRecord>())
            {
                if (chain.Contains(LocalResolver.Text(cname.Name)) && chain.Add(LocalResolver.Text(cname.CanonicalName)))
                {
                    changed = true;
                }
            }
        }

        var admissions = new List<Admission>();
        foreach (var record in list)
        {
            var address = record switch
            {
                ARecord a => a.Address,
                AaaaRecord aaaa => aaaa.Address,
                _ => null,
            };
            if (address is null || !chain.Contains(LocalResolver.Text(record.Name)) || AddressRanges.IsNonPublic(address))
            {
                continue;
            }

            var ttl = Math.Clamp(record.TimeToLive, minTtl, maxTtl);
            admissions.AddRange(rules.Select(r => new Admission(r.rule, r.index, address, ttl)));
        }

        return admissions;
    }
}
