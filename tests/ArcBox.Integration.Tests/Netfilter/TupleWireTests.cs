using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter.Tuples;
using ArcBox.Netfilter.Wire;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;
using System.Net;

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
        Commit(wire, TupleTable.Operations(table.Elements));
        Assert.Equal(Listing(viaNft), Listing(viaWire));

        // Half the sandboxes go: their elements only, as the daemon's removal does.
        var gone = table.Elements.Where(e => Array.IndexOf(table.Names, e.Interface[3..]) % 2 == 0).ToList();
        var script = string.Concat(gone.GroupBy(e => e.Tuple.Name).Select(g =>
            $"delete element inet {TupleTable.Table} {g.Key} {{ {string.Join(", ", g.Select(e => TupleRenderer.Element(e)))} }}\n"));
        viaNft.Nft(script).EnsureSuccess("delete (nft)");
        Commit(wire, [.. TupleWire.Elements(gone, delete: true)]);
        Assert.Equal(Listing(viaNft), Listing(viaWire));
    }

    [Fact]
    public void Layout_deltas_leave_the_kernel_as_a_fresh_load_of_the_layout()
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var table = TupleTable.Random(40, "0xG3mQ9Tz2c8");
        var swaps = TupleTable.Random(40, "0Rt5Yw1Ue7i6");
        var baseText = table.Base(_ => ["return"]);
        using var viaDeltas = new TestNamespace("tld");
        using var fresh = new TestNamespace("tlf");
        viaDeltas.Nft(baseText).EnsureSuccess("base (deltas)");
        fresh.Nft(baseText).EnsureSuccess("base (fresh)");
        using var ns = NetworkNamespace.Open(TestNetwork.NetnsPath(viaDeltas));
        using var wire = NftNetlink.OpenIn(ns);

        // One clock for every step, so that every learnt element's timeout is the hour it was admitted for.
        var now = DateTime.UtcNow;
        var layout = TupleLayout.Empty(table.View);
        var steps = 0;
        void Apply((TupleLayout Next, TupleDelta Delta) change)
        {
            layout = change.Next;
            Commit(wire, [.. TupleWire.Operations(change.Delta, layout.Shapes.Keys, layout.View.DualStack, TupleTable.Hit)]);
            steps++;
        }

        // Created in an order where many name sandboxes that come later, then swapped, taught addresses, and half
        // removed and some created again: chains are rebuilt as shapes come and go.
        var order = Enumerable.Range(0, table.Names.Length).Reverse().ToList();
        foreach (var i in order)
        {
            Apply(layout.Add(table.Names[i], TupleTable.Iface(table.Names[i]), table.View.Sandboxes[table.Names[i]], table.Policies[i], now));
        }

        for (var i = 0; i < table.Names.Length; i++)
        {
            foreach (var (address, domain) in TupleTable.Learnt)
            {
                Apply(layout.Admit(table.Names[i], IPAddress.Parse(address), TupleTable.LearntRules(layout.Sandboxes[table.Names[i]].Policy, domain), TimeSpan.FromHours(1), now));
            }

            if (i % 2 == 0)
            {
                Apply(layout.Replace(table.Names[i], swaps.Policies[i], now));
            }
        }

        for (var i = 0; i < table.Names.Length; i += 2)
        {
            Apply(layout.Remove(table.Names[i], now));
        }

        for (var i = 0; i < table.Names.Length; i += 6)
        {
            Apply(layout.Add(table.Names[i], TupleTable.Iface(table.Names[i]), table.View.Sandboxes[table.Names[i]], swaps.Policies[i], now));
        }

        fresh.Nft(TupleTable.Text(layout.Elements(now).Select(x => x.Element))).EnsureSuccess("fresh load");
        Assert.True(steps > 100, $"{steps} transactions");
        Assert.Equal(Listing(fresh), Listing(viaDeltas));
    }

    [Fact]
    public void Deleted_elements_report_their_last_counters_and_kept_ones_keep_theirs()
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        var table = TupleTable.Random(30, "0Kc8Dv3Nb6m2");
        var swaps = TupleTable.Random(30, "0Lq1Wz5Ex9a4");
        var now = DateTime.UtcNow;
        var layout = TupleLayout.Empty(table.View);
        for (var i = 0; i < table.Names.Length; i++)
        {
            layout = layout.Add(table.Names[i], TupleTable.Iface(table.Names[i]), table.View.Sandboxes[table.Names[i]], table.Policies[i], now).Next;
        }

        // Every element starts with a count of its own.
        var loaded = layout.Elements(now).Select(x => x.Element).ToList();
        var counts = loaded.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => ((ulong)x.i + 1, ((ulong)x.i + 1) * 100));
        using var ns = new TestNamespace("tcc");
        ns.Nft(table.Base(_ => ["return"])).EnsureSuccess("base");
        ns.Nft(TupleTable.Text(loaded, e => counts[e])).EnsureSuccess("elements with counters");
        using var handle = NetworkNamespace.Open(TestNetwork.NetnsPath(ns));
        using var wire = NftNetlink.OpenIn(handle);

        var deleted = new List<TupleElement>();
        var reported = new List<NftElementCounter>();
        for (var i = 0; i < table.Names.Length; i += 2)
        {
            var (next, delta) = layout.Replace(table.Names[i], swaps.Policies[i], now);
            var ops = TupleWire.Operations(delta, next.Shapes.Keys, next.View.DualStack, TupleTable.Hit, _ => true).ToImmutableArray();
            reported.AddRange(wire.CommitCountingDeletes(WireEncoder.Encode(TupleTable.Table, ops), j => WireEncoder.Describe(ops[j])));
            deleted.AddRange(delta.Delete);
            layout = next;
        }

        Assert.True(deleted.Count > 100, $"only {deleted.Count} elements deleted");
        var byKey = deleted.ToDictionary(e => (e.Tuple.Name, Convert.ToHexString([.. TupleWire.Key(e)])));
        Assert.Equal(deleted.Count, reported.Count);
        foreach (var r in reported)
        {
            var element = byKey[(r.Set, Convert.ToHexString(r.Key))];
            Assert.Equal(counts[element], (r.Packets, r.Bytes));
        }

        // What stayed keeps its count; what came starts at zero.
        var listing = JsonNode.Parse(ns.Exec("nft", "-n", "-j", "list", "table", "inet", TupleTable.Table).EnsureSuccess("list").Stdout)!;
        var live = layout.Elements(now).Select(x => x.Element).ToDictionary(e => $"{e.Tuple.Name} {TupleRenderer.Element(e).Replace("\"", "", StringComparison.Ordinal)}");
        var seen = 0;
        var tupleSets = layout.Shapes.Keys.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var set in listing["nftables"]!.AsArray().Select(o => o!["set"]).OfType<JsonObject>().Where(o => tupleSets.Contains(o["name"]!.ToString())))
        {
            foreach (var item in set["elem"]?.AsArray() ?? [])
            {
                var elem = item!["elem"]!;
                var value = elem["val"]!;
                var key = value is JsonObject concat ? string.Join(" . ", concat["concat"]!.AsArray().Select(v => v!.ToString())) : value.ToString();
                var element = live[$"{set["name"]} {key}"];
                var expected = counts.TryGetValue(element, out var c) && !deleted.Contains(element) ? c : (0UL, 0UL);
                Assert.Equal(expected, (elem["counter"]!["packets"]!.GetValue<ulong>(), elem["counter"]!["bytes"]!.GetValue<ulong>()));
                seen++;
            }
        }

        Assert.Equal(live.Count, seen);
    }

    private static void Commit(NftNetlink wire, ImmutableArray<WireOperation> operations) =>
        wire.Commit(WireEncoder.Encode(TupleTable.Table, operations), i => WireEncoder.Describe(operations[i]));

    /// <summary>The table as JSON, one line per object, without handles and expiry countdowns, sets by name (nft lists
    /// them in the order they were made) and their elements sorted (a hash set lists them in its own order); chains
    /// and rules as listed.</summary>
    private static string Listing(TestNamespace ns)
    {
        var json = JsonNode.Parse(ns.Exec("nft", "-j", "list", "table", "inet", TupleTable.Table).EnsureSuccess("list").Stdout)!;
        var sets = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
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
                    sets[o["name"]!.ToString()] = [$"{kind} {o.ToJsonString()}", .. sorted.Select(e => "  " + e)];
                    continue;
                }

                if (kind == "set")
                {
                    sets[o["name"]!.ToString()] = [$"{kind} {o.ToJsonString()}"];
                    continue;
                }

                lines.Add($"{kind} {o.ToJsonString()}");
            }
        }

        return string.Join('\n', sets.Values.SelectMany(v => v).Concat(lines));
    }

    private static string Strip(string element) =>
        System.Text.RegularExpressions.Regex.Replace(element, "\"expires\":[0-9]+,?", "");
}
