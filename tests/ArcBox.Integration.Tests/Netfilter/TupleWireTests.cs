using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter.Tuples;
using ArcBox.Netfilter.Wire;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>
/// The tuple layout's netlink operations (<see cref="TupleWire"/>, no text on the way) leave the kernel as nft leaves
/// it for the same layout as text (<see cref="TupleRenderer"/>): sets with their key types, flags and element
/// counters, rules expression for expression, elements with their timeouts; then again after half the sandboxes'
/// elements are deleted both ways.
/// </summary>
public sealed class TupleWireTests
{
    [Fact]
    public void Netlink_operations_leave_the_kernel_as_nft_text_does()
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var table = TupleTable.Random(50, "0pWv2Kq8Xr41");
        var baseText = table.Base(_ => ["return"]);
        using var viaNft = new TestNamespace("twa");
        using var viaWire = new TestNamespace("twb");
        viaNft.Nft(baseText).EnsureSuccess("base (nft)");
        viaWire.Nft(baseText).EnsureSuccess("base (wire)");
        using var ns = NetworkNamespace.Open(TestNetwork.NetnsPath(viaWire));
        using var wire = NftNetlink.OpenIn(ns);

        viaNft.Nft(table.TuplesText(table.Elements)).EnsureSuccess("tuples (nft)");
        var operations = ImmutableArray.CreateBuilder<WireOperation>();
        operations.AddRange(table.Tuples.Select(TupleWire.Set));
        operations.AddRange(table.Tuples.Select(t => TupleWire.Rule(t, TupleRenderer.ChainOf(t), new Verdict(Verdict.Goto, $"{t.Path.ToString().ToLowerInvariant()}_hit"))));
        operations.AddRange(TupleWire.Elements(table.Elements, delete: false, e => TupleTable.IsLearnt(e) ? TimeSpan.FromHours(1) : null));
        Commit(wire, operations.ToImmutable());
        Assert.Equal(Listing(viaNft), Listing(viaWire));

        // Half the sandboxes go: their elements only, as the daemon's removal does.
        var gone = table.Elements.Where(e => Array.IndexOf(table.Names, e.Interface[3..]) % 2 == 0).ToList();
        var script = string.Concat(gone.GroupBy(e => e.Tuple.Name).Select(g =>
            $"delete element inet {TupleTable.Table} {g.Key} {{ {string.Join(", ", g.Select(e => TupleRenderer.Element(e)))} }}\n"));
        viaNft.Nft(script).EnsureSuccess("delete (nft)");
        Commit(wire, [.. TupleWire.Elements(gone, delete: true)]);
        Assert.Equal(Listing(viaNft), Listing(viaWire));
    }

    private static void Commit(NftNetlink wire, ImmutableArray<WireOperation> operations) =>
        wire.Commit(WireEncoder.Encode(TupleTable.Table, operations), i => WireEncoder.Describe(operations[i]));

    /// <summary>The table as JSON, one line per object, without handles and expiry countdowns, elements sorted (a hash
    /// set lists them in its own order).</summary>
    private static string Listing(TestNamespace ns)
    {
        var json = JsonNode.Parse(ns.Exec("nft", "-j", "list", "table", "inet", TupleTable.Table).EnsureSuccess("list").Stdout)!;
        var lines = new List<string>();
        foreach (var item in json["nftables"]!.AsArray())
        {
            var obj = item!.AsObject();
            foreach (var (kind, body) in obj)
            {
                if (kind == "metainfo" || body is not JsonObject o)
                {
                    continue;
                }

                o.Remove("handle");
                if (o["elem"] is JsonArray elems)
                {
                    var sorted = elems.Select(e => Strip(e!.ToJsonString())).Order(StringComparer.Ordinal).ToList();
                    o.Remove("elem");
                    lines.Add($"{kind} {o.ToJsonString()}");
                    lines.AddRange(sorted.Select(e => "  " + e));
                    continue;
                }

                lines.Add($"{kind} {o.ToJsonString()}");
            }
        }

        return string.Join('\n', lines);
    }

    private static string Strip(string element) =>
        System.Text.RegularExpressions.Regex.Replace(element, "\"expires\":[0-9]+,?", "");
}
