using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Netfilter.Wire;

namespace ArcBox.Daemon.Datapath;

/// <summary>
/// Our nft tables in the daemon's namespace. Every change is one transaction; the plans applied are kept so that
/// the next change can be rendered against them. The whole ruleset is loaded through libnftables; changes of one
/// sandbox, forwards and learnt addresses go to the kernel as nf_tables netlink batches, which need no cache of
/// the table first (libnftables refreshed one before each of them: 3-4 ms at 1,000 sandboxes). A change the
/// netlink writer cannot spell goes through libnftables, the same steps in the same order.
/// </summary>
public sealed class Firewall(NetworkConfig network) : IFirewall, IDisposable
{
    private readonly NftablesContext nft = NftablesContext.Open();
    private readonly NftNetlink wire = NftNetlink.Open();
    private readonly WireRenderer wireRenderer = new(BaseTableBuilder.Build(network));

    // ARCBOX_NFT_WRITER=libnftables sends every change through libnftables: a way around a kernel that would
    // misread our batches, and the baseline the control-plane benchmark compares against.
    private readonly bool useNetlink = Environment.GetEnvironmentVariable("ARCBOX_NFT_WRITER") != "libnftables";
    // Read by the resolver's threads (the types of a sandbox's domains sets) while the manager changes it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SandboxPlan> applied = new(StringComparer.Ordinal);
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
        Apply(SandboxChanges.Add(plan), plan.Sets);
        applied[plan.Identity.Name] = plan;
    }

    public void Replace(SandboxPlan plan)
    {
        var old = applied[plan.Identity.Name];
        Apply(SandboxChanges.Replace(old, plan), old.Sets.Concat(plan.Sets).DistinctBy(x => x.Name));
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
        Apply(SandboxChanges.Elements(remove, add), []);

    public bool Remove(string name)
    {
        if (!applied.TryGetValue(name, out var plan))
        {
            return false;
        }

        Apply(SandboxChanges.Remove(plan), plan.Sets);
        applied.TryRemove(name, out _);
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
        var list = elements.ToList();
        if (list.Count == 0)
        {
            return;
        }

        var now = DateTime.UtcNow;
        lock (known)
        {
            var changes = ImmutableArray.CreateBuilder<NftChange>();
            foreach (var group in list.GroupBy(e => e.Set, StringComparer.Ordinal))
            {
                // Within two seconds of expiry the kernel may already have dropped it: then "add" alone, never a
                // "delete" that would fail the transaction for an element that is gone.
                var refresh = group.Where(e => known.TryGetValue((e.Set, e.Address), out var expiry) && expiry - now > TimeSpan.FromSeconds(2)).ToList();
                if (refresh.Count > 0)
                {
                    changes.Add(new DeleteElementsChange("inet", group.Key, [.. refresh.Select(e => e.Address.ToString())]));
                }

                changes.Add(new AddElementsChange("inet", group.Key, [.. group.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Address} timeout {e.Seconds}s"))]));
            }

            Apply(changes.ToImmutable(), applied.TryGetValue(sandbox, out var plan) ? plan.Sets : []);
            foreach (var (set, address, seconds) in list)
            {
                known[(set, address)] = now.AddSeconds(seconds);
            }
        }
    }

    /// <summary>Forgets what was learnt for a sandbox whose sets were removed or replaced.</summary>
    public void ForgetLearnt(string sandbox) => learnt.TryRemove(sandbox, out _);

    public string List(string command, bool json = false) => nft.List(command, json);

    public void Dispose()
    {
        wire.Dispose();
        nft.Dispose();
    }

    /// <summary>One transaction: as a netlink batch, or through libnftables when the writer cannot spell a step.</summary>
    /// <param name="own">The sets of the sandbox concerned, whose types say how their elements are written.</param>
    private void Apply(ImmutableArray<NftChange> changes, IEnumerable<NftSet> own)
    {
        if (!useNetlink)
        {
            nft.Run(NftRenderer.Render(network, changes));
            return;
        }

        ImmutableArray<WireOperation> operations;
        ImmutableArray<ReadOnlyMemory<byte>> messages;
        try
        {
            operations = wireRenderer.Render(changes, own);
            messages = WireEncoder.Encode(network.Table, operations);
        }
        catch (NotSupportedException)
        {
            nft.Run(NftRenderer.Render(network, changes));
            return;
        }

        wire.Commit(messages, i => WireEncoder.Describe(operations[i]));
    }
}
