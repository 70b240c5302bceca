using System.Net;
using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Model;

namespace ArcBox.Daemon.Tests.Sandboxes;

/// <summary>Records every transaction asked of it; a step can be made to fail as the kernel would refuse it.</summary>
internal sealed class RecordingFirewall : IFirewall
{
    public List<string> Calls { get; } = [];

    public Func<string, Exception?> Refuse { get; set; } = _ => null;

    public void LoadAll(IReadOnlyCollection<SandboxPlan> plans, IEnumerable<NftElement> forwards) =>
        Record($"load {string.Join(",", plans.Select(p => p.Identity.Name))} +{forwards.Count()}");

    public void Add(SandboxPlan plan) => Record($"add {plan.Identity.Name}");

    public void Replace(SandboxPlan plan) => Record($"replace {plan.Identity.Name}");

    public bool Remove(string name)
    {
        Record($"remove {name}");
        return true;
    }

    public void Elements(IEnumerable<NftElement> remove, IEnumerable<NftElement> add) => Record("elements");

    public void Admit(string sandbox, IEnumerable<(string Set, IPAddress Address, int Seconds)> elements) => Record($"admit {sandbox}");

    private void Record(string call)
    {
        if (Refuse(call) is { } error)
        {
            throw error;
        }

        lock (Calls)
        {
            Calls.Add(call);
        }
    }
}

/// <summary>Links that exist only as names in a set; any step can be made to fail.</summary>
internal sealed class FakeWiring : ISandboxWiring
{
    public List<string> Calls { get; } = [];

    public HashSet<string> Wired { get; } = new(StringComparer.Ordinal);

    public Func<string, Exception?> Fail { get; set; } = _ => null;

    public List<string> UnwireProblems { get; } = [];

    public List<string> OrphanProblems { get; } = [];

    public void CreateNamespace(SandboxRecord r) => Step($"namespace {r.Name}");

    public void SetNamespaceDefaults(SandboxRecord r) => Step($"defaults {r.Name}");

    public void NameProcessNamespace(SandboxRecord r) => Step($"name {r.Name}");

    public void Wire(SandboxRecord r)
    {
        Step($"wire {r.Name}");
        Wired.Add(r.Interface);
    }

    public SandboxWiring.NewLink CreateLink(SandboxRecord r)
    {
        Step($"link {r.Name}");
        Wired.Add(r.Interface);
        return new SandboxWiring.NewLink(null, null);
    }

    public void Configure(SandboxRecord r, SandboxWiring.NewLink link) => Step($"configure {r.Name}");

    public void Shape(SandboxRecord r, Bandwidth? bandwidth) => Step($"shape {r.Name}");

    public bool IsWired(SandboxRecord r) => Wired.Contains(r.Interface);

    public int? LinkIndex(SandboxRecord r) => Wired.Contains(r.Interface) ? 100 + r.Ipv4.GetAddressBytes()[3] : null;

    public List<string> Unwire(SandboxRecord r)
    {
        Step($"unwire {r.Name}");
        Wired.Remove(r.Interface);
        return [.. UnwireProblems];
    }

    public (int Removed, List<string> Problems) RemoveOrphans(IReadOnlyCollection<(SandboxRecord Record, bool Shaped)> live)
    {
        Step("orphans");
        return (0, [.. OrphanProblems]);
    }

    private void Step(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }

        if (Fail(call) is { } error)
        {
            throw error;
        }
    }
}

internal sealed class FakeForgetter : IConnectionForgetter
{
    public List<string> Forgotten { get; } = [];

    public void Forget(string sandbox, IEnumerable<IPAddress> addresses) => Forgotten.Add(sandbox);

    public void Settle(IReadOnlyCollection<IPAddress> addresses)
    {
    }

    public void RequestStarted()
    {
    }

    public void RequestEnded()
    {
    }
}

/// <summary>Writes down what it was told, in order; can be made to throw or to report a problem on remove.</summary>
internal sealed class RecordingObserver(string name) : ISandboxObserver
{
    public List<string> Events { get; } = [];

    public bool Throw { get; set; }

    public string? RemoveProblem { get; set; }

    public void Added(Sandbox sandbox) => Note($"added {sandbox.Name}");

    public void Changed(Sandbox before, Sandbox after) => Note($"changed {after.Name} {before.Record.PolicyName}->{after.Record.PolicyName}");

    public void Removing(Sandbox sandbox, ICollection<string> problems)
    {
        if (RemoveProblem is not null)
        {
            problems.Add(RemoveProblem);
        }

        Note($"removing {sandbox.Name}");
    }

    public void Removed(Sandbox sandbox) => Note($"removed {sandbox.Name}");

    public void Loaded(SandboxTable loaded) => Note($"loaded {string.Join(",", loaded.Names.Order(StringComparer.Ordinal))}");

    private void Note(string what)
    {
        Events.Add(what);
        if (Throw)
        {
            throw new InvalidOperationException($"{name} failed on '{what}'");
        }
    }
}
