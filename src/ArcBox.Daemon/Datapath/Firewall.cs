using ArcBox.Linux.Nftables;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;

namespace ArcBox.Daemon.Datapath;

/// <summary>
/// Our nft tables in the daemon's namespace, through one warm libnftables context. Every change is one
/// transaction; the plans applied are kept so that the next change can be rendered against them.
/// </summary>
public sealed class Firewall(NetworkConfig network) : IDisposable
{
    private readonly NftablesContext nft = NftablesContext.Open();
    private readonly Dictionary<string, SandboxPlan> applied = new(StringComparer.Ordinal);

    public NetworkConfig Network => network;

    /// <summary>Replaces our tables with the base and every given sandbox in one transaction (start-up reconcile).</summary>
    public void LoadAll(IReadOnlyCollection<SandboxPlan> plans)
    {
        nft.Run(NftRenderer.RenderRuleset(BaseTableBuilder.Build(network), plans));
        applied.Clear();
        foreach (var plan in plans)
        {
            applied[plan.Identity.Name] = plan;
        }
    }

    public void Add(SandboxPlan plan)
    {
        nft.Run(NftRenderer.RenderAdd(network, plan));
        applied[plan.Identity.Name] = plan;
    }

    public void Replace(SandboxPlan plan)
    {
        var old = applied[plan.Identity.Name];
        nft.Run(NftRenderer.RenderReplace(network, old, plan));
        applied[plan.Identity.Name] = plan;
    }

    public bool Remove(string name)
    {
        if (!applied.TryGetValue(name, out var plan))
        {
            return false;
        }

        nft.Run(NftRenderer.RenderRemove(network, plan));
        applied.Remove(name);
        return true;
    }

    public SandboxPlan? Plan(string name) => applied.GetValueOrDefault(name);

    public string List(string command, bool json = false) => nft.List(command, json);

    public void Dispose() => nft.Dispose();
}
