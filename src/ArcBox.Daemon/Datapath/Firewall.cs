using System.Globalization;
using System.Net;
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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Dictionary<(string Set, IPAddress Address), DateTime>> learnt = new(StringComparer.Ordinal);

    public NetworkConfig Network => network;

    /// <summary>Replaces our tables with the base and every given sandbox in one transaction (start-up reconcile).</summary>
    public void LoadAll(IReadOnlyCollection<SandboxPlan> plans, IEnumerable<NftElement> forwards)
    {
        nft.Run(NftRenderer.RenderRuleset(BaseTableBuilder.Build(network), plans, forwards));
        applied.Clear();
        learnt.Clear();
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

        // Sets whose rule changed were recreated empty; those kept still hold what was learnt.
        if (learnt.TryGetValue(plan.Identity.Name, out var known))
        {
            var kept = plan.Sets.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            lock (known)
            {
                foreach (var key in known.Keys.Where(k => !kept.Contains(k.Set)).ToList())
                {
                    known.Remove(key);
                }
            }
        }
    }

    /// <summary>Adds and removes elements of shared maps and sets in one transaction (port forwards).</summary>
    public void Elements(IEnumerable<NftElement> remove, IEnumerable<NftElement> add) =>
        nft.Run(NftRenderer.RenderElements(network, remove, add));

    public bool Remove(string name)
    {
        if (!applied.TryGetValue(name, out var plan))
        {
            return false;
        }

        nft.Run(NftRenderer.RenderRemove(network, plan));
        applied.Remove(name);
        learnt.TryRemove(name, out _);
        return true;
    }

    public SandboxPlan? Plan(string name) => applied.GetValueOrDefault(name);

    /// <summary>
    /// Puts addresses learnt by the resolver into a sandbox's domain sets, each with its timeout. An element that
    /// is already there is deleted and added again in the same transaction: "add" alone would keep its old expiry.
    /// </summary>
    public void Admit(string sandbox, IEnumerable<(string Set, IPAddress Address, int Seconds)> elements)
    {
        var known = learnt.GetOrAdd(sandbox, _ => new Dictionary<(string, IPAddress), DateTime>());
        var script = new System.Text.StringBuilder();
        var now = DateTime.UtcNow;
        lock (known)
        {
            foreach (var (set, address, seconds) in elements)
            {
                // Within two seconds of expiry the kernel may already have dropped it: then "add" alone, never a
                // "delete" that would fail the transaction for an element that is gone.
                if (known.TryGetValue((set, address), out var expiry) && expiry - now > TimeSpan.FromSeconds(2))
                {
                    script.Append(CultureInfo.InvariantCulture, $"delete element inet {network.Table} {set} {{ {address} }}\n");
                }

                script.Append(CultureInfo.InvariantCulture, $"add element inet {network.Table} {set} {{ {address} timeout {seconds}s }}\n");
            }

            if (script.Length == 0)
            {
                return;
            }

            nft.Run(script.ToString());
            foreach (var (set, address, seconds) in elements)
            {
                known[(set, address)] = now.AddSeconds(seconds);
            }
        }
    }

    /// <summary>Forgets what was learnt for a sandbox whose sets were removed or replaced.</summary>
    public void ForgetLearnt(string sandbox) => learnt.TryRemove(sandbox, out _);

    public string List(string command, bool json = false) => nft.List(command, json);

    public void Dispose() => nft.Dispose();
}
