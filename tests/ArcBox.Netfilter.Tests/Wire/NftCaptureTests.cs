using System.Collections.Immutable;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Plan;
using ArcBox.Netfilter.Rendering;
using ArcBox.Netfilter.Wire;

namespace ArcBox.Netfilter.Tests.Wire;

/// <summary>
/// Our nf_tables messages against those nft itself sends for the same changes (tests/testdata/netlink, captured by
/// capture.sh there: nft 1.0.6, libnftnl 1.2.4), message by message and byte for byte, no root needed. The changes go
/// the daemon's way, <see cref="WireRenderer"/> then <see cref="WireEncoder"/>, and NAME.nft holds what
/// <see cref="NftRenderer"/> writes for them, so nft was given the same transaction.
/// <para>
/// Where the bytes may differ, nft's message is normalised here, explicitly, and nowhere else; each normalisation
/// first checks that nft's message has exactly the shape it expects, so a new nft that changes more fails instead.
/// Everything else must be equal: message types and flags, nfgenmsg, every other attribute, its order and value.
/// </para>
/// <list type="number">
/// <item>nlmsg_seq: the sender numbers a batch's messages (ArcBox.Linux's NfnetlinkBatch); our encoder leaves 0.</item>
/// <item>NFTA_SET_ID of NFT_MSG_NEWSET: we count from 1 in each batch; nft numbers the sets of its process, those it
/// has cached included (1 and 2 in these captures, like ours, but that depends on nft's cache). The kernel only asks
/// that it be unique in the batch (nft_set_lookup_byid). Zeroed on both sides; <see cref="Set_ids_count_from_one_in_each_batch"/>
/// pins ours.</item>
/// <item>lookup: nft writes SREG, SET, SET_ID (its cache's number for the set), then FLAGS; we write SET, SREG, FLAGS
/// and no SET_ID. The kernel parses attributes by type, and finds a set by name before it tries the id.</item>
/// <item>log: nft writes PREFIX before GROUP, we GROUP before PREFIX.</item>
/// <item>counter: nft sends an empty NFTA_EXPR_DATA, we send NFTA_COUNTER_BYTES and PACKETS as 0; the kernel
/// starts a counter at 0 either way.</item>
/// <item>NFT_MSG_NEWSETELEM: nft adds NFTA_SET_ELEM_LIST_SET_ID (the set's id in its cache; the name decides, as for
/// lookups), and writes an element's TIMEOUT before its KEY, we KEY, DATA, then TIMEOUT.</item>
/// <item>The elements of NFTA_SET_ELEM_LIST_ELEMENTS: libnftnl numbers their nests 1, 2, 3 (nftnl_set_elems_build),
/// we make each NFTA_LIST_ELEM (1), as for expressions. The kernel walks the list whatever the types
/// (nla_for_each_nested).</item>
/// </list>
/// Interval sets are not compared: nft sends each range as its start and the address after it flagged
/// NFT_SET_ELEM_INTERVAL_END, with an end at 0.0.0.0 before the first range; <see cref="WireRenderer"/> refuses them,
/// and that change goes through libnftables. Tables are not captured: only the ruleset load, through libnftables,
/// creates them, and the encoder has no operation for them.
/// </summary>
public class NftCaptureTests
{
    private const ushort MsgNewRule = (10 << 8) | 6;
    private const ushort MsgNewSet = (10 << 8) | 9;
    private const ushort MsgNewSetElem = (10 << 8) | 12;

    private const ushort NFTA_SET_ID = 10;
    private const ushort NFTA_LIST_ELEM = 1;
    private const ushort NFTA_RULE_EXPRESSIONS = 4;
    private const ushort NFTA_EXPR_NAME = 1;
    private const ushort NFTA_EXPR_DATA = 2;
    private const ushort NFTA_LOOKUP_SET = 1;
    private const ushort NFTA_LOOKUP_SREG = 2;
    private const ushort NFTA_LOOKUP_SET_ID = 4;
    private const ushort NFTA_LOOKUP_FLAGS = 5;
    private const ushort NFTA_LOG_GROUP = 1;
    private const ushort NFTA_LOG_PREFIX = 2;
    private const ushort NFTA_COUNTER_BYTES = 1;
    private const ushort NFTA_COUNTER_PACKETS = 2;
    private const ushort NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    private const ushort NFTA_SET_ELEM_LIST_SET_ID = 4;
    private const ushort NFTA_SET_ELEM_KEY = 1;
    private const ushort NFTA_SET_ELEM_DATA = 2;
    private const ushort NFTA_SET_ELEM_FLAGS = 3;
    private const ushort NFTA_SET_ELEM_TIMEOUT = 4;

    private static readonly NetworkConfig Network = Golden.Dual;
    private static readonly BasePlan BasePlan = BaseTableBuilder.Build(Network);

    public static TheoryData<string> Cases => [.. NftCaptureCase.All.Select(c => c.Name)];

    public static TheoryData<string> Encoded => [.. NftCaptureCase.All.Select(c => c.Name).Where(n => n != "elements-interval")];

    [Fact]
    public void Every_script_in_testdata_has_its_case_here()
    {
        var files = Directory.GetFiles(NftCapture.Dir, "*.nft").Select(Path.GetFileNameWithoutExtension).Order();
        Assert.Equal(NftCaptureCase.All.Select(c => c.Name).Order(), files);
    }

    /// <summary>ARCBOX_UPDATE_GOLDEN=1 rewrites what follows #capture; then capture.sh must run again.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void The_script_captured_is_what_our_renderer_writes_for_the_changes(string name)
    {
        var capture = NftCapture.Load(name);
        var script = NftRenderer.Render(Network, Case(name).Changes);
        if (Environment.GetEnvironmentVariable("ARCBOX_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(NftCapture.Dir, name + ".nft"), capture.Setup + script);
        }

        Assert.Equal(script, capture.Script);
    }

    [Theory]
    [MemberData(nameof(Encoded))]
    public void Our_messages_are_nfts_up_to_the_differences_named_above(string name)
    {
        var capture = NftCapture.Load(name);
        Assert.True(capture.Batch.Count > 0, $"no {name}.netlink: run tests/testdata/netlink/capture.sh {name} as root");
        var c = Case(name);
        var ours = WireEncoder.Encode(Network.Table, new WireRenderer(BasePlan).Render(c.Changes, c.Own));
        Assert.Equal(capture.Messages.Count, ours.Length);
        for (var i = 0; i < ours.Length; i++)
        {
            // Ours are compared as written: parsing and writing them back must give the same bytes.
            var mine = NetlinkTree.Parse(ours[i].Span);
            Assert.Equal(Hex(ours[i].Span), Hex(mine.ToBytes()));

            var theirs = NetlinkTree.Parse(capture.Messages[i]);
            Normalise(theirs);
            ZeroSetId(theirs);
            ZeroSetId(mine);
            var (expected, actual) = (Hex(theirs.ToBytes()), Hex(mine.ToBytes()));
            Assert.True(expected == actual, $"{name}, message {i} ({capture.Batch[i + 1].Label}):\n  nft:  {expected}\n  ours: {actual}");
        }
    }

    [Fact]
    public void Set_ids_count_from_one_in_each_batch()
    {
        var c = Case("sets");
        var ids = WireEncoder.Encode(Network.Table, new WireRenderer(BasePlan).Render(c.Changes, c.Own))
            .Select(m => NetlinkTree.Parse(m.Span))
            .Where(m => m.MessageType == MsgNewSet)
            .Select(m => Hex(m.Attr(NFTA_SET_ID).Value));
        Assert.Equal(["00000001", "00000002"], ids);
    }

    [Fact]
    public void Interval_elements_go_through_libnftables_since_nft_sends_each_range_as_a_start_and_an_end()
    {
        var c = Case("elements-interval");
        Assert.Throws<NotSupportedException>(() => new WireRenderer(BasePlan).Render(c.Changes, c.Own));

        // "10.1.0.0/16, 192.0.2.7" on the wire: end 0.0.0.0, 10.1.0.0, end 10.2.0.0, 192.0.2.7, end 192.0.2.8, each
        // end with NFTA_SET_ELEM_FLAGS NFT_SET_ELEM_INTERVAL_END (1).
        var elements = NetlinkTree.Parse(NftCapture.Load(c.Name).Messages.Single()).Attr(NFTA_SET_ELEM_LIST_ELEMENTS).Nested;
        var spelt = elements.Select(e =>
            (e.Nested.Any(a => a.Kind == NFTA_SET_ELEM_FLAGS && Hex(a.Value) == "00000001") ? "end " : "")
            + new System.Net.IPAddress(e.Child(NFTA_SET_ELEM_KEY).Child(1).Value!));
        Assert.Equal(["end 0.0.0.0", "10.1.0.0", "end 10.2.0.0", "192.0.2.7", "end 192.0.2.8"], spelt);
    }

    private static NftCaptureCase Case(string name) => NftCaptureCase.All.Single(c => c.Name == name);

    // The differences 1 and 3 to 7 of the summary, applied to nft's message.
    private static void Normalise(NetlinkTree m)
    {
        m.Sequence = 0;
        switch (m.MessageType)
        {
            case MsgNewRule:
                foreach (var expression in m.Attr(NFTA_RULE_EXPRESSIONS).Nested)
                {
                    var data = expression.Child(NFTA_EXPR_DATA).Nested;
                    switch (expression.Child(NFTA_EXPR_NAME).Text)
                    {
                        case "lookup":
                            Expect(data, "lookup", data.Count == 3 ? [NFTA_LOOKUP_SREG, NFTA_LOOKUP_SET, NFTA_LOOKUP_SET_ID] : [NFTA_LOOKUP_SREG, NFTA_LOOKUP_SET, NFTA_LOOKUP_SET_ID, NFTA_LOOKUP_FLAGS]);
                            data.RemoveAll(a => a.Kind == NFTA_LOOKUP_SET_ID);
                            Reorder(data, NFTA_LOOKUP_SET, NFTA_LOOKUP_SREG, NFTA_LOOKUP_FLAGS);
                            break;
                        case "log":
                            Expect(data, "log", [NFTA_LOG_PREFIX, NFTA_LOG_GROUP]);
                            Reorder(data, NFTA_LOG_GROUP, NFTA_LOG_PREFIX);
                            break;
                        case "counter":
                            Expect(data, "counter", []);
                            data.Add(new Nlattr(NFTA_COUNTER_BYTES, new byte[8], null));
                            data.Add(new Nlattr(NFTA_COUNTER_PACKETS, new byte[8], null));
                            break;
                    }
                }

                break;
            case MsgNewSetElem:
                Assert.Single(m.Attributes, a => a.Kind == NFTA_SET_ELEM_LIST_SET_ID);
                m.Attributes.RemoveAll(a => a.Kind == NFTA_SET_ELEM_LIST_SET_ID);
                var elements = m.Attr(NFTA_SET_ELEM_LIST_ELEMENTS).Nested;
                Expect(elements, "element list", [.. Enumerable.Range(1, elements.Count).Select(i => (ushort)i)]);
                for (var i = 0; i < elements.Count; i++)
                {
                    Reorder(elements[i].Nested, NFTA_SET_ELEM_KEY, NFTA_SET_ELEM_DATA, NFTA_SET_ELEM_TIMEOUT);
                    elements[i] = new Nlattr(NFTA_LIST_ELEM | Nlattr.NLA_F_NESTED, null, elements[i].Nested);
                }

                break;
        }
    }

    // Difference 2, on both sides.
    private static void ZeroSetId(NetlinkTree m)
    {
        if (m.MessageType == MsgNewSet)
        {
            m.Attr(NFTA_SET_ID).Value = new byte[4];
        }
    }

    private static void Expect(List<Nlattr> attributes, string what, ushort[] kinds) =>
        Assert.True(attributes.Select(a => a.Kind).SequenceEqual(kinds), $"nft's {what} has attributes {string.Join(", ", attributes.Select(a => a.Kind))}, expected {string.Join(", ", kinds)}");

    // Puts the attributes of these kinds first, in this order; the others keep theirs after them.
    private static void Reorder(List<Nlattr> attributes, params ushort[] kinds)
    {
        var ordered = kinds.SelectMany(k => attributes.Where(a => a.Kind == k)).ToList();
        var rest = attributes.Where(a => !kinds.Contains(a.Kind)).ToList();
        attributes.Clear();
        attributes.AddRange(ordered.Concat(rest));
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    private static string Hex(byte[]? bytes) => bytes is null ? "(nested)" : Convert.ToHexStringLower(bytes);
}
