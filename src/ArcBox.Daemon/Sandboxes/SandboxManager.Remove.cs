using ArcBox.Netfilter;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    /// <summary>Removes a sandbox: its links first (traffic stops), then its rules, then its record. Goes on past
    /// failures and returns them, so that nothing is left behind silently.</summary>
    public Task<IReadOnlyList<string>> RemoveAsync(string name, CancellationToken cancellationToken = default) =>
        Exclusive<IReadOnlyList<string>>(() => Remove(name), cancellationToken);

    private List<string> Remove(string name)
    {
        var record = Get(name);
        var problems = new List<string>();
        foreach (var forward in forwards.Where(f => f.Sandbox == name).ToList())
        {
            try
            {
                Unforward(forward);
            }
            catch (ArcBox.Netfilter.NftablesException ex)
            {
                problems.Add(ex.Message);
                store.DeleteForward(forward);
                forwards = forwards.Remove(forward);
            }
        }

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

        store.Delete(name);
        records = records.Remove(name);
        policies = policies.Remove(name);
        RefreshResolver(name);
        resolver?.Log.Forget(name);
        foreach (var problem in problems)
        {
            Hosting.Log.RemoveProblem(log, name, problem);
        }

        Hosting.Log.Removed(log, name);
        return problems;
    }
}
