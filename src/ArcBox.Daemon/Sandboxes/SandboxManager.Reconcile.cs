using System.Collections.Immutable;
using System.Diagnostics;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Linux.Namespaces;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy;
using ArcBox.Policy.Parsing;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    /// <summary>
    /// Makes the kernel match the stored state: unfinished creates are rolled back, our tables are replaced in one
    /// transaction (no moment without rules; conntrack keeps established flows), links and namespaces of sandboxes
    /// that no longer exist are removed, and missing links of stored sandboxes are created again.
    /// </summary>
    private void Reconcile()
    {
        var started = Stopwatch.GetTimestamp();
        var stored = store.All();
        var rolledBack = 0;
        foreach (var r in stored.Where(r => !r.Applied))
        {
            foreach (var problem in wiring.Unwire(r))
            {
                Hosting.Log.ReconcileProblem(log, $"rolling back {r.Name}: {problem}");
            }

            store.Delete(r.Name);
            rolledBack++;
        }

        var live = stored.Where(r => r.Applied).ToList();
        var plans = new List<SandboxPlan>();
        var parsedPolicies = ImmutableDictionary.CreateBuilder<string, ArcBox.Policy.Model.SandboxPolicy>(StringComparer.Ordinal);
        foreach (var r in live)
        {
            var parsed = PolicyParser.Parse(r.PolicyYaml, r.PolicyName);
            if (parsed.Policy is null)
            {
                // Fail closed: a stored policy this version cannot read allows nothing until it is set again.
                Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: its stored policy no longer validates ({string.Join("; ", parsed.Errors)}); enforcing 'offline'");
            }

            parsedPolicies[r.Name] = parsed.Policy ?? BuiltinPolicies.Offline;
            plans.Add(SandboxCompiler.Compile(network, Identity(r), parsedPolicies[r.Name]));
        }

        // Forwards of sandboxes that exist; the rest were left by a crash between the two deletes of an rm.
        KeepAll(live);
        forwards = [.. store.Forwards().Where(f => records.ContainsKey(f.Sandbox))];
        policies = parsedPolicies.ToImmutable();
        firewall.LoadAll(plans, ForwardElements());
        StartRelays();

        var orphans = RemoveOrphans(live);
        var rewired = 0;
        foreach (var r in live)
        {
            if (wiring.IsWired(r))
            {
                continue;
            }

            try
            {
                if (r.OwnsNamespace && !File.Exists(r.NetnsPath))
                {
                    wiring.CreateNamespace(r);
                }
                else if (r.OwnsNamespace)
                {
                    // Still there without its link (perhaps made by an older daemon): its defaults are set again.
                    wiring.SetNamespaceDefaults(r);
                }

                if (!r.IsTap && !File.Exists(r.NetnsPath))
                {
                    Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: its namespace {r.NetnsPath} is gone; its rules stay until it is removed");
                    continue;
                }

                wiring.Wire(r);
                rewired++;
            }
            catch (Exception ex) when (ex is KernelException or IOException or InvalidOperationException)
            {
                Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: cannot recreate its links: {ex.Message}");
            }
        }

        KeepAll(live);
        foreach (var r in live)
        {
            LearnTapLink(r);
            if (!wiring.IsWired(r))
            {
                continue;
            }

            try
            {
                wiring.Shape(r, policies[r.Name].Bandwidth);
            }
            catch (KernelException ex)
            {
                Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: cannot set its bandwidth limits: {ex.Message}");
            }
        }

        Hosting.Log.Reconciled(log, live.Count, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, rewired, orphans, rolledBack);
    }

    private int RemoveOrphans(List<SandboxRecord> live)
    {
        var removed = 0;
        var interfaces = live.Select(r => r.Interface).ToHashSet(StringComparer.Ordinal);
        interfaces.UnionWith(live.Where(r => policies.TryGetValue(r.Name, out var p) && p.Bandwidth?.Egress is not null).Select(r => InterfaceNames.Ifb(network.Prefix, r.Interface)));
        foreach (var link in host.Links().Where(l => (l.Name.StartsWith(network.Prefix + "-", StringComparison.Ordinal) || (l.Name.StartsWith(network.Prefix + ".", StringComparison.Ordinal) && l.Kind == "ifb")) && !interfaces.Contains(l.Name)))
        {
            host.DeleteLink(link.Name);
            removed++;
        }

        var namespaces = live.Where(r => r.NetnsPath is not null).Select(r => Path.GetFileName(r.NetnsPath!)).ToHashSet(StringComparer.Ordinal);
        if (Directory.Exists(NetworkNamespace.NamedDirectory))
        {
            foreach (var path in Directory.GetFiles(NetworkNamespace.NamedDirectory, config.NamespacePrefix + "*"))
            {
                if (!namespaces.Contains(Path.GetFileName(path)))
                {
                    NetworkNamespace.DeleteNamed(Path.GetFileName(path));
                    removed++;
                }
            }
        }

        return removed;
    }
}
