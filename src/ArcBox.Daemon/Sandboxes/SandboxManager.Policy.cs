using ArcBox.Linux;
using ArcBox.Daemon.State;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Rendering;
using ArcBox.Policy.Parsing;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    /// <summary>Swaps a live sandbox's policy in one kernel transaction; on failure nothing changes.</summary>
    public Task<SandboxRecord> SetPolicyAsync(string name, PolicyInput input, CancellationToken cancellationToken = default) =>
        Exclusive(() => SetPolicy(name, input), cancellationToken);

    /// <summary>The sandbox's policy as YAML, or compiled (nft: the sandbox's own objects; iptables: the whole view).</summary>
    public string ShowPolicy(string name, string format)
    {
        var r = Get(name);
        var policy = policies[name];
        var identity = Identity(r);
        return format switch
        {
            "yaml" => r.PolicyYaml.EndsWith('\n') ? r.PolicyYaml : r.PolicyYaml + "\n",
            "nft" => NftRenderer.RenderAdd(network, SandboxCompiler.Compile(network, identity, policy)),
            "iptables" => IptablesRenderer.Render(network, identity, policy),
            _ => throw new RequestException(ErrorCode.Invalid, $"unknown format '{format}': expected yaml, nft or iptables"),
        };
    }

    private SandboxRecord SetPolicy(string name, PolicyInput input)
    {
        var record = Get(name);
        var (policyName, yaml, policy) = input.Resolve();
        var plan = SandboxCompiler.Compile(network, Identity(record), policy);
        var old = policies[name].Bandwidth;
        try
        {
            // Limits first: they are replaced in place and put back if the rules are refused. A sandbox whose link
            // is gone (its namespace vanished) keeps only its rules.
            if ((old is not null || policy.Bandwidth is not null) && !Equals(old, policy.Bandwidth) && wiring.IsWired(record))
            {
                wiring.Shape(record, policy.Bandwidth);
            }
        }
        catch (KernelException ex)
        {
            RestoreShaping(record, old);
            throw new RequestException(ErrorCode.Failure, $"policy set {name}: the kernel refused the bandwidth limits, nothing changed: {ex.Message}");
        }

        try
        {
            firewall.Replace(plan);
        }
        catch (NftablesException ex)
        {
            RestoreShaping(record, old);
            throw new RequestException(ErrorCode.Failure, $"policy set {name}: the kernel refused the new rules, nothing changed: {ex.Message}");
        }

        // Connections the new policy no longer allows must not live on as "established".
        ForgetConnections(record);
        record = record with { PolicyName = policyName, PolicyYaml = yaml };
        store.Put(record);
        Keep(record);
        policies = policies.SetItem(name, policy);
        RefreshResolver(name);
        Hosting.Log.PolicySet(log, name, policyName);
        return record;
    }

    private void RestoreShaping(SandboxRecord record, ArcBox.Policy.Model.Bandwidth? bandwidth)
    {
        if (!wiring.IsWired(record))
        {
            return;
        }

        try
        {
            wiring.Shape(record, bandwidth);
        }
        catch (KernelException ex)
        {
            Hosting.Log.ReconcileProblem(log, $"sandbox {record.Name}: cannot restore its bandwidth limits: {ex.Message}");
        }
    }

    private static SandboxIdentity Identity(SandboxRecord r) => new(r.Name, r.Interface, r.Ipv4, r.Ipv6, r.Mac, Dhcp: r.IsTap);
}
