using ArcBox.Linux;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxLifecycle
{
    /// <summary>
    /// Removes a sandbox: what features keep for it first (forwards, its VM), then its links (traffic stops), its
    /// rules and its record. Goes on past failures and returns them, so that nothing is left behind silently.
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        var sandbox = Table.Get(name);
        foreach (var observer in observers)
        {
            // Outside the change lock: a VM that takes its time to stop must not hold up other requests. Remove
            // does what is needed again under the lock.
            try
            {
                await observer.BeforeRemoveAsync(sandbox, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Hosting.Log.ObserverFailed(log, name, observer.GetType().Name, "remove", ex.Message);
            }
        }

        return await gate.RunAsync<IReadOnlyList<string>>(() => Remove(name), cancellationToken);
    }

    private List<string> Remove(string name)
    {
        var current = Table;
        var sandbox = current.Get(name);
        var record = sandbox.Record;
        var problems = new List<string>();

        // The state first, with the sandbox's forwards, in one transaction: if it cannot be written nothing is
        // removed; once it is, a crash before the kernel is done leaves orphans that the next start removes.
        Store(() => store.DeleteWithForwards(name), $"rm {name}");
        Notify(name, "remove", o => o.Removing(sandbox, problems), problems);
        problems.AddRange(wiring.Unwire(record));
        try
        {
            firewall.Remove(name);
        }
        catch (NftablesException ex)
        {
            problems.Add(ex.Message);
        }

        // Nothing of the old sandbox may be "established" for the next one to get its address.
        ForgetConnections(record);
        Publish(current.Without(name));
        Notify(name, "remove", o => o.Removed(sandbox), problems);
        foreach (var problem in problems)
        {
            Hosting.Log.RemoveProblem(log, name, problem);
        }

        Hosting.Log.Removed(log, name);
        return problems;
    }
}
