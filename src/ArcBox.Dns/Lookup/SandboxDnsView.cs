using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Dns.Lookup;

/// <summary>What the resolver knows of one sandbox: who it is and what its policy says about DNS.</summary>
public sealed record SandboxDnsView(string Name, SandboxAddresses Addresses, SandboxPolicy Policy)
{
    private RecordIndex? index;
    private bool? hasDomainRules;

    /// <summary>The policy's records, indexed on first use.</summary>
    public RecordIndex Records => index ??= new RecordIndex(Policy.Dns.Records);

    /// <summary>Whether any outbound rule names domains: if not, no answer can open anything.</summary>
    public bool HasDomainRules => hasDomainRules ??= Policy.Outbound.Any(r => !r.Domains.IsEmpty);

    /// <summary>The upstreams this sandbox forwards to: its policy's, else the daemon's.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams(IReadOnlyList<IPEndPoint> defaults) =>
        Policy.Dns.Upstream.IsEmpty ? defaults : Policy.Dns.Upstream;

    /// <summary>
    /// Whether <paramref name="name"/> may be resolved upstream: by dns.resolve when the policy has it; else, when
    /// the policy has outbound domains rules, exactly those domains; else any name.
    /// </summary>
    public bool MayResolveUpstream(string name)
    {
        if (!Policy.Dns.Resolve.IsEmpty)
        {
            return Policy.Dns.Resolve.Any(p => p.Matches(name));
        }

        var domains = Policy.Outbound.SelectMany(r => r.Domains).ToList();
        return domains.Count == 0 || domains.Any(p => p.Matches(name));
    }
}
