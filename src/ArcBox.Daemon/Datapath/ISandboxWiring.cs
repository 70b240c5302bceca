using ArcBox.Daemon.State;

namespace ArcBox.Daemon.Datapath;

/// <summary>The links and namespaces of sandboxes (<see cref="SandboxWiring"/>); an interface so that the lifecycle's
/// order of steps and its cleanup on failure can be tested without root.</summary>
public interface ISandboxWiring
{
    void CreateNamespace(SandboxRecord r);

    void SetNamespaceDefaults(SandboxRecord r);

    /// <summary>Gives a process's namespace the name of a pid: attachment under /run/netns.</summary>
    void NameProcessNamespace(SandboxRecord r);

    void Wire(SandboxRecord r);

    SandboxWiring.NewLink CreateLink(SandboxRecord r);

    void Configure(SandboxRecord r, SandboxWiring.NewLink link);

    void Shape(SandboxRecord r, ArcBox.Policy.Model.Bandwidth? bandwidth);

    bool IsWired(SandboxRecord r);

    /// <summary>The host-side link's interface index, null when it is missing.</summary>
    int? LinkIndex(SandboxRecord r);

    List<string> Unwire(SandboxRecord r);

    /// <summary>Deletes links and namespaces of ours that belong to none of <paramref name="live"/>; goes on past
    /// failures and returns how many went and what could not be removed.</summary>
    (int Removed, List<string> Problems) RemoveOrphans(IReadOnlyCollection<(SandboxRecord Record, bool Shaped)> live);
}
