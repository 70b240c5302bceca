using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;
using ArcBox.Netfilter.Tuples;
using ArcBox.Netfilter.Wire;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using CsCheck;

namespace ArcBox.Testing.Daemon;

/// <summary>
/// Random sandboxes compiled to the tuple layout, and the table the kernel tests load it into: the region and guard
/// sets, per path a chain that a hit goes to and the lookup chains with their dispatch rules. The tuples' sets and
/// rules and the elements come on top, as text or as netlink operations.
/// </summary>
public sealed class TupleTable
{
    public const string Table = "abtuple";

    /// <summary>Public addresses the resolver "learnt", each for one name, so a flow to one always carries its name.</summary>
    public static readonly (string Address, string Domain)[] Learnt =
    [
        ("203.0.113.77", "pypi.org"), ("8.8.8.8", "a.example.com"), ("2606:4700::1111", "files.pythonhosted.org"), ("198.51.100.7", "other.net"),
    ];

    private TupleTable(NetworkView view, string[] names, SandboxPolicy[] policies, List<TupleElement> elements)
    {
        View = view;
        Names = names;
        Policies = policies;
        Elements = elements;
    }

    public NetworkView View { get; }

    public string[] Names { get; }

    public SandboxPolicy[] Policies { get; }

    public List<TupleElement> Elements { get; }

    public IEnumerable<NftTuple> Tuples => Elements.Select(e => e.Tuple).Distinct().Order(Comparer<NftTuple>.Create(NftTuple.Compare));

    /// <summary>Sandboxes alpha, beta, gamma, s3, ... at 10.0.0.10+ and fd00::a+, on a dual-stack network whose host also
    /// has 192.168.100.1 and fd99::1; each with a random policy and the learnt addresses its domain rules admit.</summary>
    public static TupleTable Random(int count, string seed)
    {
        var yamls = PolicyGenerator.Yaml(ipv6: true, allowDomains: true, maxRules: 6).Array[count].Single(_ => true, seed);
        var names = Enumerable.Range(0, count).Select(i => i < PolicyGenerator.SandboxNames.Length ? PolicyGenerator.SandboxNames[i] : $"s{i}").ToArray();
        var view = NetworkView.Create(IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00::/64")) with
        {
            HostAddresses = [IPAddress.Parse("192.168.100.1"), IPAddress.Parse("fd99::1")],
        };
        for (var i = 0; i < count; i++)
        {
            view = view.WithSandbox(names[i], new SandboxAddresses(IPAddress.Parse($"10.0.0.{i + 10}"), IPAddress.Parse($"fd00::{i + 10:x}")));
        }

        var policies = yamls.Select((y, i) => PolicyParser.Parse(y, $"random{i}.yaml").Policy ?? throw new InvalidOperationException(y)).ToArray();
        var elements = new List<TupleElement>();
        for (var i = 0; i < count; i++)
        {
            elements.AddRange(TupleCompiler.Compile(view, Iface(names[i]), policies[i]));
            foreach (var (address, domain) in Learnt)
            {
                elements.AddRange(TupleCompiler.Learnt(view, Iface(names[i]), policies[i], IPAddress.Parse(address), LearntRules(policies[i], domain)).Select(e => e.Element));
            }
        }

        return new TupleTable(view, names, policies, elements);
    }

    public static string Iface(string name) => "ab-" + name;

    public static HashSet<int> LearntRules(SandboxPolicy policy, string domain) =>
        policy.Outbound.Select((r, i) => (r, i)).Where(x => x.r.Domains.Any(d => d.Matches(domain))).Select(x => x.i).ToHashSet();

    public static bool IsLearnt(TupleElement e) => e.Tuple.Layer is TupleLayer.Learnt or TupleLayer.LearntAnyProtocol;

    /// <summary>The table before any tuple: region and guard sets, and per path the chains of
    /// <see cref="TupleRenderer.Dispatch"/> plus "{path}_hit" with <paramref name="hitRules"/> (path name to its rules).</summary>
    public string Base(Func<string, IEnumerable<string>> hitRules, string extra = "") => BaseText(View, hitRules, extra);

    /// <summary><see cref="Base"/> for any dual-stack network view.</summary>
    public static string BaseText(NetworkView view, Func<string, IEnumerable<string>> hitRules, string extra = "")
    {
        var sb = new StringBuilder($"table inet {Table} {{\n");
        sb.Append(CultureInfo.InvariantCulture, $"  set nonpublic4 {{ type ipv4_addr; flags interval; auto-merge; elements = {{ {string.Join(", ", AddressRanges.NonPublic4.Append(view.Subnet4))} }}; }}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  set nonpublic6 {{ type ipv6_addr; flags interval; auto-merge; elements = {{ {string.Join(", ", AddressRanges.NonPublic6.Append(view.Subnet6!.Value))} }}; }}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  set guarded4 {{ type ipv4_addr; flags interval; elements = {{ {string.Join(", ", AddressRanges.Guarded4)} }}; }}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  set guarded6 {{ type ipv6_addr; flags interval; elements = {{ {string.Join(", ", AddressRanges.Guarded6)} }}; }}\n");
        foreach (var path in Enum.GetValues<TuplePath>())
        {
            var p = path.ToString().ToLowerInvariant();
            Chain(sb, $"{p}_hit", hitRules(p));
            foreach (var (chain, rules) in TupleRenderer.Dispatch(path, view.DualStack))
            {
                Chain(sb, chain, rules);
            }
        }

        sb.Append(extra).Append("}\n");
        return sb.ToString();
    }

    /// <summary>The tuples' sets and rules and the elements as nft text, learnt ones with a timeout of an hour.</summary>
    public string TuplesText(IEnumerable<TupleElement> elements) => Text(elements);

    /// <summary>The same as netlink operations, the way the daemon writes them: sets, rules (a hit goes to
    /// "{path}_hit"), elements.</summary>
    public static ImmutableArray<WireOperation> Operations(IEnumerable<TupleElement> elements)
    {
        var all = elements.ToList();
        var tuples = all.Select(e => e.Tuple).Distinct().Order(Comparer<NftTuple>.Create(NftTuple.Compare)).ToList();
        var operations = ImmutableArray.CreateBuilder<WireOperation>();
        operations.AddRange(tuples.Select(TupleWire.Set));
        operations.AddRange(tuples.Select(t => TupleWire.Rule(t, TupleRenderer.ChainOf(t), Hit(t.Path))));
        operations.AddRange(TupleWire.Elements(all, delete: false, e => IsLearnt(e) ? TimeSpan.FromHours(1) : null));
        return operations.ToImmutable();
    }

    public static Verdict Hit(TuplePath path) => new(Verdict.Goto, $"{path.ToString().ToLowerInvariant()}_hit");

    /// <summary>The sets and rules of the elements' tuples and the elements, learnt ones with a timeout of an hour,
    /// each with the counter <paramref name="counter"/> gives it (none: zero).</summary>
    public static string Text(IEnumerable<TupleElement> elements, Func<TupleElement, (ulong Packets, ulong Bytes)>? counter = null)
    {
        var all = elements.ToList();
        var tuples = all.Select(e => e.Tuple).Distinct().Order(Comparer<NftTuple>.Create(NftTuple.Compare)).ToList();
        var sb = new StringBuilder();
        foreach (var tuple in tuples)
        {
            sb.Append(TupleRenderer.AddSet("inet", Table, tuple)).Append('\n');
        }

        foreach (var tuple in tuples)
        {
            sb.Append(CultureInfo.InvariantCulture, $"add rule inet {Table} {TupleRenderer.ChainOf(tuple)} {TupleRenderer.Rule(tuple, $"goto {tuple.Path.ToString().ToLowerInvariant()}_hit")}\n");
        }

        // At most 20,000 elements per statement keeps nft's parser and its netlink messages moderate.
        foreach (var chunk in all.GroupBy(e => e.Tuple.Name).SelectMany(g => g.Chunk(20000)))
        {
            sb.Append(CultureInfo.InvariantCulture, $"add element inet {Table} {chunk[0].Tuple.Name} {{ {string.Join(", ", chunk.Select(e => TupleRenderer.Element(e, IsLearnt(e) ? TimeSpan.FromHours(1) : null) + Counter(e)))} }}\n");
        }

        return sb.ToString();

        string Counter(TupleElement e) => counter?.Invoke(e) is { } c ? string.Create(CultureInfo.InvariantCulture, $" counter packets {c.Packets} bytes {c.Bytes}") : "";
    }

    private static void Chain(StringBuilder sb, string name, IEnumerable<string> rules)
    {
        sb.Append(CultureInfo.InvariantCulture, $"  chain {name} {{\n");
        foreach (var rule in rules)
        {
            sb.Append("    ").Append(rule).Append('\n');
        }

        sb.Append("  }\n");
    }
}
