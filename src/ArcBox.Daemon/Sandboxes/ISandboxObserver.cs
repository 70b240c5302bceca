using ArcBox.Netfilter.Plan;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// A feature that follows the sandboxes (DNS, DHCP, flow log, forwards, VMs) instead of being reached into by the
/// lifecycle. Calls come from the lifecycle's change lock, in the order sandboxes change; every method has a
/// do-nothing default. An observer that throws does not undo the change: the lifecycle logs it and goes on (on
/// remove, its message is one of the problems returned).
/// </summary>
public interface ISandboxObserver
{
    /// <summary>At start, before the whole ruleset is loaded: elements of shared maps and sets this feature keeps
    /// for <paramref name="loading"/> (they go in with the sandboxes' rules, in one transaction).</summary>
    IEnumerable<NftElement> Restore(SandboxTable loading) => [];

    /// <summary>At start, once the kernel matches <paramref name="loaded"/>.</summary>
    void Loaded(SandboxTable loaded)
    {
    }

    void Added(Sandbox sandbox)
    {
    }

    /// <summary>A new policy, or links made again.</summary>
    void Changed(Sandbox before, Sandbox after)
    {
    }

    /// <summary>Before a remove takes the change lock: for work that must not hold up other requests (a VM's stop).</summary>
    Task BeforeRemoveAsync(Sandbox sandbox, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Under the change lock, before the sandbox's links and rules go: what of this feature points at it goes
    /// first. Problems are added to <paramref name="problems"/>, never thrown.</summary>
    void Removing(Sandbox sandbox, ICollection<string> problems)
    {
    }

    /// <summary>The sandbox is gone from the kernel, the state and the table.</summary>
    void Removed(Sandbox sandbox)
    {
    }
}
