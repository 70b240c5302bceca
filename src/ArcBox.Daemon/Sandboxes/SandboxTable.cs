using System.Collections.Immutable;
using System.Net;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>
/// Every live sandbox with the indexes a create, the flow log and DHCP look things up by: one immutable value.
/// <see cref="SandboxLifecycle"/> builds the next table and publishes it with one write, so a reader holding a
/// table sees each sandbox whole (record, policy and indexes together) or not at all.
/// </summary>
public sealed class SandboxTable
{
    public static readonly SandboxTable Empty = new(
        ImmutableDictionary.Create<string, Sandbox>(StringComparer.Ordinal),
        ImmutableDictionary.Create<string, string>(StringComparer.Ordinal),
        ImmutableDictionary<IPAddress, string>.Empty,
        ImmutableDictionary.Create<string, string>(StringComparer.Ordinal),
        ImmutableDictionary<int, string>.Empty);

    private readonly ImmutableDictionary<string, Sandbox> byName;
    private readonly ImmutableDictionary<string, string> byInterface;
    private readonly ImmutableDictionary<IPAddress, string> byAddress;
    private readonly ImmutableDictionary<string, string> byNamespace;
    private readonly ImmutableDictionary<int, string> byLinkIndex;

    private SandboxTable(
        ImmutableDictionary<string, Sandbox> byName,
        ImmutableDictionary<string, string> byInterface,
        ImmutableDictionary<IPAddress, string> byAddress,
        ImmutableDictionary<string, string> byNamespace,
        ImmutableDictionary<int, string> byLinkIndex)
    {
        this.byName = byName;
        this.byInterface = byInterface;
        this.byAddress = byAddress;
        this.byNamespace = byNamespace;
        this.byLinkIndex = byLinkIndex;
    }

    public int Count => byName.Count;

    public IEnumerable<string> Names => byName.Keys;

    /// <summary>The sandboxes in name order.</summary>
    public IReadOnlyList<Sandbox> All() => [.. byName.Values.OrderBy(s => s.Name, StringComparer.Ordinal)];

    public Sandbox? Find(string name) => byName.GetValueOrDefault(name);

    public Sandbox Get(string name) =>
        byName.TryGetValue(name, out var s) ? s : throw new RequestException(ErrorCode.NotFound, $"no sandbox named '{name}'");

    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The sandbox whose host-side link this is.</summary>
    public string? OwnerOfInterface(string ifname) => byInterface.GetValueOrDefault(ifname);

    public string? OwnerOfAddress(IPAddress ipv4) => byAddress.GetValueOrDefault(ipv4);

    public string? OwnerOfNamespace(string path) => byNamespace.GetValueOrDefault(path);

    public Sandbox? OfLinkIndex(int index) => byLinkIndex.TryGetValue(index, out var name) ? byName.GetValueOrDefault(name) : null;

    /// <summary>The table with <paramref name="sandbox"/> added, or put in place of the sandbox of the same name.</summary>
    public SandboxTable With(Sandbox sandbox)
    {
        var table = byName.TryGetValue(sandbox.Name, out var old) ? Without(old) : this;
        var r = sandbox.Record;
        return new SandboxTable(
            table.byName.SetItem(r.Name, sandbox),
            table.byInterface.SetItem(r.Interface, r.Name),
            table.byAddress.SetItem(r.Ipv4, r.Name),
            r.NetnsPath is { } path ? table.byNamespace.SetItem(path, r.Name) : table.byNamespace,
            sandbox.LinkIndex is { } index ? table.byLinkIndex.SetItem(index, r.Name) : table.byLinkIndex);
    }

    public SandboxTable Without(string name) => byName.TryGetValue(name, out var old) ? Without(old) : this;

    /// <summary>A table of exactly these sandboxes (start-up).</summary>
    public static SandboxTable Of(IEnumerable<Sandbox> sandboxes) => sandboxes.Aggregate(Empty, (t, s) => t.With(s));

    private SandboxTable Without(Sandbox old)
    {
        var r = old.Record;
        return new SandboxTable(
            byName.Remove(r.Name),
            byInterface.Remove(r.Interface),
            byAddress.Remove(r.Ipv4),
            r.NetnsPath is { } path && byNamespace.GetValueOrDefault(path) == r.Name ? byNamespace.Remove(path) : byNamespace,
            old.LinkIndex is { } index && byLinkIndex.GetValueOrDefault(index) == r.Name ? byLinkIndex.Remove(index) : byLinkIndex);
    }
}
