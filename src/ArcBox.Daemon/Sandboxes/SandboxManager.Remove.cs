using ArcBox.Linux;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    /// <summary>Removes a sandbox: its links first (traffic stops), then its rules, then its record. Goes on past
    /// failures and returns them, so that nothing is left behind silently.</summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        // A VM is stopped before taking the change lock (QMP round trips); Remove checks again under it.
        if (records.TryGetValue(name, out var r) && r.IsTap)
        {
            await StopVmAsync(name, TimeSpan.Zero, cancellationToken);
        }

        return await Exclusive<IReadOnlyList<string>>(() => Remove(name), cancellationToken);
    }

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
            catch (ArcBox.Linux.NftablesException ex)
            {
                problems.Add(ex.Message);
                store.DeleteForward(forward);
                forwards = forwards.Remove(forward);
            }
        }

        EndVm(record, problems);
        ForgetTapLink(name);
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
        Drop(record);
        policies = policies.Remove(name);
        RefreshResolver(name);
        resolver?.Forget(name);
        flowLog?.Forget(name);
        foreach (var problem in problems)
        {
            Hosting.Log.RemoveProblem(log, name, problem);
        }

        Hosting.Log.Removed(log, name);
        return problems;
    }
}
