using System.Collections.Immutable;
using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// What the tuple layout holds on one host, immutable: every sandbox's policy elements and learnt elements, the
/// shapes in use (how many elements each), and who names whom (`sandbox:NAME` compiles to NAME's addresses, so a
/// sandbox that appears or goes changes the elements of those that name it). Each change returns the next layout and
/// the <see cref="TupleDelta"/> that takes the kernel there; the caller commits the delta, then publishes the layout.
/// </summary>
public sealed class TupleLayout
{
    // Learnt elements this close to their expiry may already be gone from the kernel: never delete them (a delete of
    // a missing element fails the whole transaction); they expire by themselves.
    private static readonly TimeSpan Expiring = TimeSpan.FromSeconds(2);

    private readonly ImmutableDictionary<string, ImmutableHashSet<string>> namedBy;

    private TupleLayout(NetworkView view, ImmutableDictionary<string, TupleSandbox> sandboxes, ImmutableDictionary<NftTuple, int> shapes, ImmutableDictionary<string, ImmutableHashSet<string>> namedBy)
    {
        View = view;
        Sandboxes = sandboxes;
        Shapes = shapes;
        this.namedBy = namedBy;
    }

    /// <summary>The network with every sandbox's addresses: the compiler's directory.</summary>
    public NetworkView View { get; }

    public ImmutableDictionary<string, TupleSandbox> Sandboxes { get; }

    /// <summary>Shapes in use and how many elements each holds.</summary>
    public ImmutableDictionary<NftTuple, int> Shapes { get; }

    public static TupleLayout Empty(NetworkView network) =>
        new(network with { Sandboxes = ImmutableDictionary<string, SandboxAddresses>.Empty }, ImmutableDictionary<string, TupleSandbox>.Empty.WithComparers(StringComparer.Ordinal),
            ImmutableDictionary<NftTuple, int>.Empty, ImmutableDictionary<string, ImmutableHashSet<string>>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>Every element the kernel holds (learnt ones that have not expired by <paramref name="now"/>).</summary>
    public IEnumerable<(TupleElement Element, DateTime? Expiry)> Elements(DateTime now) =>
        Sandboxes.Values.SelectMany(s => s.Elements.Select(e => (e, (DateTime?)null))
            .Concat(s.Learnt.Values.SelectMany(l => l.Elements).Where(kv => kv.Value > now).Select(kv => (kv.Key, (DateTime?)kv.Value))));

    public (TupleLayout Next, TupleDelta Delta) Add(string name, string iface, SandboxAddresses addresses, SandboxPolicy policy, DateTime now)
    {
        if (Sandboxes.ContainsKey(name))
        {
            throw new ArgumentException($"sandbox {name} is already in the layout", nameof(name));
        }

        var view = View.WithSandbox(name, addresses);
        var sandbox = new TupleSandbox(iface, addresses, policy, [.. TupleCompiler.Compile(view, iface, policy)], ImmutableDictionary<IPAddress, TupleLearnt>.Empty);
        var change = new Change(this, now);
        change.Set(name, sandbox);
        change.Named(name, policy, add: true);
        change.Recompile(NamedBy(name), view);
        return change.Finish(view);
    }

    /// <summary>A policy swap: elements that stay keep their counters; what was learnt for a `domains` rule that kept
    /// its place and its names stays learnt.</summary>
    public (TupleLayout Next, TupleDelta Delta) Replace(string name, SandboxPolicy policy, DateTime now)
    {
        var old = Sandboxes[name];
        var change = new Change(this, now);
        var kept = old.Policy.Outbound.Select((r, i) => (r, i))
            .Where(x => !x.r.Domains.IsEmpty && x.i < policy.Outbound.Length && policy.Outbound[x.i].Domains.SequenceEqual(x.r.Domains))
            .Select(x => x.i).ToHashSet();
        var sandbox = old with { Policy = policy, Elements = [.. TupleCompiler.Compile(View, old.Interface, policy)], Learnt = ImmutableDictionary<IPAddress, TupleLearnt>.Empty };
        foreach (var (address, learnt) in old.Learnt)
        {
            var rules = learnt.Rules.Where(r => kept.Contains(r.Key) && r.Value > now).ToImmutableDictionary();
            if (!rules.IsEmpty)
            {
                sandbox = sandbox with { Learnt = sandbox.Learnt.SetItem(address, Learn(View, sandbox, address, rules)) };
            }
        }

        change.Set(name, sandbox);
        change.Named(name, old.Policy, add: false);
        change.Named(name, policy, add: true);
        return change.Finish(View);
    }

    public (TupleLayout Next, TupleDelta Delta) Remove(string name, DateTime now)
    {
        var old = Sandboxes[name];
        var view = View with { Sandboxes = View.Sandboxes.Remove(name) };
        var change = new Change(this, now);
        change.Set(name, null);
        change.Named(name, old.Policy, add: false);
        change.Recompile(NamedBy(name), view);
        return change.Finish(view);
    }

    /// <summary>
    /// The resolver answered <paramref name="address"/> for a name that the outbound rules at
    /// <paramref name="rules"/> (indexes) allow, for <paramref name="ttl"/>. Entries already there keep the later
    /// expiry; the address's elements are computed again from every unexpired entry.
    /// </summary>
    public (TupleLayout Next, TupleDelta Delta) Admit(string name, IPAddress address, IEnumerable<int> rules, TimeSpan ttl, DateTime now)
    {
        var old = Sandboxes[name];
        var entries = old.Learnt.TryGetValue(address, out var known) ? known.Rules.Where(r => r.Value > now).ToImmutableDictionary() : ImmutableDictionary<int, DateTime>.Empty;
        foreach (var rule in rules)
        {
            var until = now + ttl;
            entries = entries.SetItem(rule, entries.TryGetValue(rule, out var before) && before > until ? before : until);
        }

        var change = new Change(this, now);
        change.Set(name, old with { Learnt = old.Learnt.SetItem(address, Learn(View, old, address, entries)) });
        return change.Finish(View);
    }

    /// <summary>
    /// The rule that decides a packet of <paramref name="sandbox"/> on <paramref name="path"/>, by the lookups the base
    /// chains make over the elements installed for it now (null: the default deny): how a flow log names the rule
    /// of a logged packet, which the kernel does not carry. <paramref name="peer"/> is the far end on the forward
    /// paths; the host paths have none.
    /// </summary>
    public string? Decide(string sandbox, TuplePath path, byte protocol, int port, IPAddress? peer, DateTime now)
    {
        if (!Sandboxes.TryGetValue(sandbox, out var s))
        {
            return null;
        }

        var elements = s.Elements.Concat(s.Learnt.Values.SelectMany(l => l.Elements).Where(kv => kv.Value > now).Select(kv => kv.Key));
        return new TupleLookup(View, elements).Decide(s.Interface, path, protocol, port, peer);
    }

    private ImmutableHashSet<string> NamedBy(string name) => namedBy.TryGetValue(name, out var set) ? set : [];

    /// <summary>The learnt elements of one address and the expiry of each: the latest of the entries it serves.</summary>
    private static TupleLearnt Learn(NetworkView view, TupleSandbox sandbox, IPAddress address, ImmutableDictionary<int, DateTime> rules)
    {
        var elements = TupleCompiler.Learnt(view, sandbox.Interface, sandbox.Policy, address, rules.Keys.ToHashSet());
        return new TupleLearnt(rules, elements.ToImmutableDictionary(e => e.Element, e => e.Rules.Max(r => rules[r])));
    }

    /// <summary>The changes of one transaction, gathered against the layout before it.</summary>
    private sealed class Change(TupleLayout before, DateTime now)
    {
        private readonly Dictionary<string, TupleSandbox?> sandboxes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, ImmutableHashSet<string>> namedBy = new(StringComparer.Ordinal);

        public void Set(string name, TupleSandbox? sandbox) => sandboxes[name] = sandbox;

        /// <summary>Records (or forgets) that <paramref name="name"/>'s policy names the sandboxes it names.</summary>
        public void Named(string name, SandboxPolicy policy, bool add)
        {
            foreach (var target in policy.Outbound.Concat(policy.Inbound).SelectMany(r => r.Targets).OfType<SandboxTarget>().Select(t => t.Name).Distinct())
            {
                var set = namedBy.TryGetValue(target, out var s) ? s : before.namedBy.GetValueOrDefault(target, ImmutableHashSet<string>.Empty.WithComparer(StringComparer.Ordinal));
                namedBy[target] = add ? set.Add(name) : set.Remove(name);
            }
        }

        /// <summary>Compiles again the policies of sandboxes that name one that came or went.</summary>
        public void Recompile(IEnumerable<string> names, NetworkView view)
        {
            foreach (var name in names)
            {
                var current = sandboxes.TryGetValue(name, out var changed) ? changed : before.Sandboxes.GetValueOrDefault(name);
                if (current is not null)
                {
                    sandboxes[name] = current with { Elements = [.. TupleCompiler.Compile(view, current.Interface, current.Policy)] };
                }
            }
        }

        public (TupleLayout, TupleDelta) Finish(NetworkView view)
        {
            var delete = ImmutableArray.CreateBuilder<TupleElement>();
            var add = ImmutableArray.CreateBuilder<(TupleElement, TimeSpan?)>();
            var shapes = before.Shapes.ToBuilder();
            void Count(NftTuple tuple, int by)
            {
                var n = shapes.GetValueOrDefault(tuple) + by;
                if (n == 0)
                {
                    shapes.Remove(tuple);
                }
                else
                {
                    shapes[tuple] = n;
                }
            }

            var next = before.Sandboxes.ToBuilder();
            foreach (var (name, changed) in sandboxes)
            {
                var sandbox = changed;
                var old = before.Sandboxes.GetValueOrDefault(name);
                var oldStatic = old?.Elements ?? [];
                var newStatic = sandbox?.Elements ?? [];
                foreach (var e in oldStatic.Except(newStatic))
                {
                    delete.Add(e);
                    Count(e.Tuple, -1);
                }

                foreach (var e in newStatic.Except(oldStatic))
                {
                    add.Add((e, null));
                    Count(e.Tuple, +1);
                }

                // Learnt elements: every one stored before (each counted once, expired or not) against the live ones
                // wanted now. One whose expiry moves is deleted and added again, since an add alone keeps the old
                // timeout; expired ones leave the state here, as they left the kernel.
                var pruned = Prune(sandbox);
                var oldLearnt = (old?.Learnt.Values.SelectMany(l => l.Elements) ?? []).ToDictionary(kv => kv.Key, kv => kv.Value);
                var newLearnt = (pruned?.Learnt.Values.SelectMany(l => l.Elements) ?? []).ToDictionary(kv => kv.Key, kv => kv.Value);
                foreach (var (e, expiry) in oldLearnt)
                {
                    if (!newLearnt.TryGetValue(e, out var wanted) || wanted != expiry)
                    {
                        if (expiry - now > Expiring)
                        {
                            delete.Add(e);
                        }

                        Count(e.Tuple, -1);
                    }
                }

                foreach (var (e, expiry) in newLearnt)
                {
                    if (!oldLearnt.TryGetValue(e, out var had) || had != expiry)
                    {
                        add.Add((e, expiry - now));
                        Count(e.Tuple, +1);
                    }
                }

                sandbox = pruned;
                if (sandbox is null)
                {
                    next.Remove(name);
                }
                else
                {
                    next[name] = sandbox;
                }
            }

            var nextShapes = shapes.ToImmutable();
            var born = nextShapes.Keys.Where(t => !before.Shapes.ContainsKey(t)).ToImmutableArray();
            var gone = before.Shapes.Keys.Where(t => !nextShapes.ContainsKey(t)).ToImmutableArray();
            var chains = born.Concat(gone).Select(TupleRenderer.ChainOf).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
            var namedByNext = before.namedBy.SetItems(namedBy);
            return (new TupleLayout(view, next.ToImmutable(), nextShapes, namedByNext), new TupleDelta(born, gone, chains, delete.ToImmutable(), add.ToImmutable()));
        }

        /// <summary>The sandbox without expired learnt elements, nor addresses whose entries all expired.</summary>
        private TupleSandbox? Prune(TupleSandbox? sandbox)
        {
            if (sandbox is null)
            {
                return null;
            }

            var learnt = ImmutableDictionary.CreateBuilder<IPAddress, TupleLearnt>();
            foreach (var (address, l) in sandbox.Learnt)
            {
                var rules = l.Rules.Where(r => r.Value > now).ToImmutableDictionary();
                var elements = l.Elements.Where(e => e.Value > now).ToImmutableDictionary();
                if (!rules.IsEmpty || !elements.IsEmpty)
                {
                    learnt[address] = new TupleLearnt(rules, elements);
                }
            }

            return sandbox with { Learnt = learnt.ToImmutable() };
        }
    }
}

/// <summary>A sandbox in the layout: its link, addresses and policy, its policy's elements and what it learnt.</summary>
public sealed record TupleSandbox(string Interface, SandboxAddresses Addresses, SandboxPolicy Policy, ImmutableHashSet<TupleElement> Elements, ImmutableDictionary<IPAddress, TupleLearnt> Learnt);

/// <summary>What one learnt address admits: the rules that learnt it and until when, and its elements with expiries.</summary>
public sealed record TupleLearnt(ImmutableDictionary<int, DateTime> Rules, ImmutableDictionary<TupleElement, DateTime> Elements);
