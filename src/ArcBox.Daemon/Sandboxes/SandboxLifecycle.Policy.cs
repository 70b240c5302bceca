using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxLifecycle
{
    /// <summary>Swaps a live sandbox's policy in one kernel transaction; on failure nothing changes.</summary>
    public Task<Sandbox> SetPolicyAsync(string name, PolicyInput input, CancellationToken cancellationToken = default) =>
        gate.RunAsync(() => SetPolicy(name, input), cancellationToken);

    private Sandbox SetPolicy(string name, PolicyInput input)
    {
        var current = Table;
        var before = current.Get(name);
        var record = before.Record;
        var (policyName, yaml, policy) = input.Resolve();
        var plan = SandboxCompiler.Compile(network, before.Identity, policy);
        var old = before.Policy.Bandwidth;
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
            throw new RequestException(ErrorCode.Failure, $"policy set {name}: the kernel refused the bandwidth limits, nothing changed: {ex.Message}", inner: ex);
        }

        try
        {
            firewall.Replace(plan);
        }
        catch (NftablesException ex)
        {
            RestoreShaping(record, old);
            throw new RequestException(ErrorCode.Failure, $"policy set {name}: the kernel refused the new rules, nothing changed: {ex.Message}", inner: ex);
        }

        record = record with { PolicyName = policyName, PolicyYaml = yaml };
        try
        {
            store.Put(record);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // The kernel goes back to the policy the state still holds: a restart must not change what is enforced.
            try
            {
                firewall.Replace(SandboxCompiler.Compile(network, before.Identity, before.Policy));
            }
            catch (NftablesException undo)
            {
                Hosting.Log.ReconcileProblem(log, $"sandbox {name}: cannot put its stored policy back in the kernel: {undo.Message}");
            }

            RestoreShaping(record, old);
            throw new RequestException(ErrorCode.Failure, $"policy set {name}: cannot write the state ({ex.Message}); the previous policy stays", inner: ex);
        }

        // Connections the new policy no longer allows must not live on as "established".
        ForgetConnections(record);
        var after = before with { Record = record, Policy = policy };
        Publish(current.With(after));
        Notify(name, "policy", o => o.Changed(before, after));
        Hosting.Log.PolicySet(log, name, policyName);
        return after;
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
}
