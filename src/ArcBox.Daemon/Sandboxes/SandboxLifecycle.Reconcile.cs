using System.Diagnostics;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy;
using ArcBox.Policy.Parsing;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxLifecycle
{
    /// <summary>
    /// Makes the kernel match the stored state: unfinished creates are rolled back, our tables are replaced in one
    /// transaction (no moment without rules; conntrack keeps established flows), links and namespaces of sandboxes
    /// that no longer exist are removed, and missing links of stored sandboxes are created again. A step that fails
    /// for one sandbox or one orphan is logged and the rest goes on: start-up never stops at the first problem.
    /// </summary>
    public void Reconcile()
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

        var live = new List<Sandbox>();
        foreach (var r in stored.Where(r => r.Applied))
        {
            var parsed = PolicyParser.Parse(r.PolicyYaml, r.PolicyName);
            if (parsed.Policy is null)
            {
                // Fail closed: a stored policy this version cannot read allows nothing until it is set again.
                Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: its stored policy no longer validates ({string.Join("; ", parsed.Errors)}); enforcing 'offline'");
            }

            live.Add(new Sandbox(r, parsed.Policy ?? BuiltinPolicies.Offline, null));
        }

        // Features' shared elements (forwards) go in with the rules, for the sandboxes that exist.
        var loading = SandboxTable.Of(live);
        var elements = new List<NftElement>();
        foreach (var observer in observers)
        {
            elements.AddRange(observer.Restore(loading));
        }

        firewall.LoadAll([.. live.Select(s => SandboxCompiler.Compile(network, s.Identity, s.Policy))], elements);

        var (orphans, orphanProblems) = wiring.RemoveOrphans([.. live.Select(s => (s.Record, s.Policy.Bandwidth?.Egress is not null))]);
        foreach (var problem in orphanProblems)
        {
            Hosting.Log.ReconcileProblem(log, $"cannot remove an orphan: {problem}");
        }

        var rewired = 0;
        foreach (var s in live)
        {
            rewired += Rewire(s.Record) ? 1 : 0;
        }

        for (var i = 0; i < live.Count; i++)
        {
            var r = live[i].Record;
            live[i] = live[i] with { LinkIndex = r.IsTap ? wiring.LinkIndex(r) : null };
            if (!wiring.IsWired(r))
            {
                continue;
            }

            try
            {
                wiring.Shape(r, live[i].Policy.Bandwidth);
            }
            catch (KernelException ex)
            {
                Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: cannot set its bandwidth limits: {ex.Message}");
            }
        }

        var loaded = SandboxTable.Of(live);
        Publish(loaded);
        Notify("*", "start", o => o.Loaded(loaded));
        Hosting.Log.Reconciled(log, live.Count, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, rewired, orphans, rolledBack);
    }

    /// <summary>Makes a stored sandbox's links again if they are missing; false when they were there or cannot be made.</summary>
    private bool Rewire(SandboxRecord r)
    {
        if (wiring.IsWired(r))
        {
            return false;
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
                return false;
            }

            wiring.Wire(r);
            return true;
        }
        catch (Exception ex) when (ex is KernelException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Hosting.Log.ReconcileProblem(log, $"sandbox {r.Name}: cannot recreate its links: {ex.Message}");
            return false;
        }
    }
}
