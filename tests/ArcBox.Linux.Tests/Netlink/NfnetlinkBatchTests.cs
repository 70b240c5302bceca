using System.Buffers.Binary;
using ArcBox.Linux.Netlink;

namespace ArcBox.Linux.Tests.Netlink;

/// <summary>
/// Ready nf_tables messages framed as one batch: NFNL_MSG_BATCH_BEGIN and END with the subsystem in res_id, every
/// message numbered in order, an acknowledgement asked of the last one only.
/// </summary>
public class NfnetlinkBatchTests
{
    private const ushort NfTables = 10;

    // NFT_MSG_NEWCHAIN (NLM_F_REQUEST | NLM_F_CREATE) and NFT_MSG_NEWRULE (| NLM_F_APPEND) of family inet, sequence 0,
    // as an encoder leaves them.
    private static readonly byte[] NewChain = Convert.FromHexString("24000000030a0104000000000000000001000000060001007400000006000300630000" + "00");
    private static readonly byte[] DelChain = Convert.FromHexString("1c000000050a01000000000000000000010000000600010074000000");

    [Fact]
    public void Messages_go_between_begin_and_end_numbered_from_the_first_sequence()
    {
        var batch = NfnetlinkBatch.Frame([NewChain, DelChain], NfTables, 41);
        Assert.Equal(
            // BEGIN: len 20, type 16, NLM_F_REQUEST, seq 41; nfgenmsg AF_UNSPEC, version 0, res_id be16 10.
            "14000000100001002900000000000000" + "0000000a"
            + "24000000030a01042a0000000000000001000000060001007400000006000300630000" + "00"
            // The last message asks for the acknowledgement that ends the batch's replies (NLM_F_ACK, 0x4).
            + "1c000000050a05002b000000000000000100000006000100740000" + "00"
            + "14000000110001002c00000000000000" + "0000000a",
            Convert.ToHexStringLower(batch.Bytes));
        Assert.Equal((41u, 43u, 44u), (batch.Begin, batch.Last, batch.End));
    }

    [Fact]
    public void Sequence_numbers_map_back_to_messages_and_framing_to_none()
    {
        var batch = NfnetlinkBatch.Frame([NewChain, DelChain, NewChain], NfTables, 100);
        Assert.Equal(new int?[] { null, 0, 1, 2, null, null }, new uint[] { 100, 101, 102, 103, 104, 99 }.Select(batch.IndexOf));
    }

    [Fact]
    public void The_messages_given_are_not_changed()
    {
        var message = NewChain.ToArray();
        NfnetlinkBatch.Frame([message], NfTables, 5);
        Assert.Equal(NewChain, message);
    }

    [Fact]
    public void A_single_message_is_also_the_last()
    {
        var batch = NfnetlinkBatch.Frame([DelChain], NfTables, 1);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(batch.Bytes.AsSpan(20 + 6));
        Assert.Equal(0x5, flags);
        Assert.Equal(20 + DelChain.Length + 20, batch.Bytes.Length);
    }

    [Fact]
    public void Unaligned_messages_are_padded_to_four_bytes()
    {
        // A 21-byte message (nlmsghdr, nfgenmsg, one stray byte): NLMSG_ALIGN puts the next one at 24.
        var odd = Convert.FromHexString("15000000050a0000000000000000000001000000ff");
        var batch = NfnetlinkBatch.Frame([odd, DelChain], NfTables, 1);
        Assert.Equal("1c000000", Convert.ToHexStringLower(batch.Bytes.AsSpan(20 + 24, 4)));
    }

    /// <summary>
    /// The framing of every batch nft sent in tests/testdata/netlink (captured by capture.sh there): begin and end
    /// are ours byte for byte but for sequence numbers, which each sender counts its own way. nft 1.0.6 asks for no
    /// acknowledgement at all; we ask it of the last message, whose reply then ends the batch's answers.
    /// </summary>
    [Fact]
    public void Begin_and_end_are_what_nft_sends()
    {
        var captures = Directory.GetFiles(CaptureDir(), "*.netlink");
        Assert.NotEmpty(captures);
        foreach (var file in captures)
        {
            var batch = File.ReadAllLines(file).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => Convert.FromHexString(l.Split(' ')[1])).ToList();
            var ours = NfnetlinkBatch.Frame([.. batch.Skip(1).SkipLast(1).Select(m => (ReadOnlyMemory<byte>)m)], NfTables, 0).Bytes;
            Assert.Equal(Unnumbered(batch[0]), Unnumbered(ours.AsSpan(0, 20)));
            Assert.Equal(Unnumbered(batch[^1]), Unnumbered(ours.AsSpan(ours.Length - 20)));
        }
    }

    [Fact]
    public void An_empty_batch_is_refused_since_no_reply_would_end_it() =>
        Assert.Throws<ArgumentException>(() => NfnetlinkBatch.Frame([], NfTables, 1));

    [Fact]
    public void A_message_whose_length_field_lies_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => NfnetlinkBatch.Frame([DelChain, NewChain.AsMemory(0, 32)], NfTables, 1));
        Assert.Contains("message 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_of_another_subsystem_is_refused()
    {
        // NFNL_SUBSYS_CTNETLINK (1) in a batch of nf_tables.
        var conntrack = Convert.FromHexString("1400000001010100000000000000000002000000");
        var error = Assert.Throws<ArgumentException>(() => NfnetlinkBatch.Frame([conntrack], NfTables, 1));
        Assert.Contains("subsystem 10", error.Message, StringComparison.Ordinal);
    }

    private static string Unnumbered(ReadOnlySpan<byte> message)
    {
        var copy = message.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(8), 0);
        return Convert.ToHexStringLower(copy);
    }

    private static string CaptureDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ArcBox.slnx")))
            {
                return Path.Combine(dir.FullName, "tests", "testdata", "netlink");
            }
        }

        throw new InvalidOperationException("no ArcBox.slnx above " + AppContext.BaseDirectory);
    }
}
