using System.Buffers.Binary;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Netlink;

/// <summary>
/// Ready nfnetlink messages framed as one batch, one transaction of the kernel: NFNL_MSG_BATCH_BEGIN, the messages
/// numbered in order, NFNL_MSG_BATCH_END, begin and end carrying the subsystem in nfgenmsg's res_id. The kernel
/// reads a batch from one buffer, so the whole of it is one byte array. Only the last message asks for an
/// acknowledgement: thousands of them would overflow the receive queue. The kernel reports every failing message
/// by its sequence number, which <see cref="IndexOf"/> maps back to the message.
/// </summary>
internal sealed class NfnetlinkBatch
{
    private NfnetlinkBatch(byte[] bytes, uint begin, uint last)
    {
        Bytes = bytes;
        Begin = begin;
        Last = last;
    }

    public byte[] Bytes { get; }

    /// <summary>The sequence number of NFNL_MSG_BATCH_BEGIN; message i has Begin + 1 + i.</summary>
    public uint Begin { get; }

    /// <summary>The sequence number of the last message, whose acknowledgement ends the batch's replies.</summary>
    public uint Last { get; }

    /// <summary>The sequence number of NFNL_MSG_BATCH_END, the last one the batch uses.</summary>
    public uint End => Last + 1;

    /// <param name="messages">Whole messages (nlmsghdr, nfgenmsg, attributes) of <paramref name="subsystem"/>; their
    /// sequence numbers are overwritten.</param>
    /// <param name="firstSequence">The sequence number of NFNL_MSG_BATCH_BEGIN.</param>
    public static NfnetlinkBatch Frame(IReadOnlyList<ReadOnlyMemory<byte>> messages, ushort subsystem, uint firstSequence)
    {
        if (messages.Count == 0)
        {
            throw new ArgumentException("a batch needs at least one message: the last one's acknowledgement ends it", nameof(messages));
        }

        var begin = new NetlinkMessage(NFNL_MSG_BATCH_BEGIN, 0).NfGen(AF_UNSPEC, subsystem).Finish(firstSequence).ToArray();
        var end = new NetlinkMessage(NFNL_MSG_BATCH_END, 0).NfGen(AF_UNSPEC, subsystem).Finish(firstSequence + (uint)messages.Count + 1).ToArray();
        var size = begin.Length + end.Length;
        for (var i = 0; i < messages.Count; i++)
        {
            if (Problem(messages[i].Span, subsystem) is { } problem)
            {
                throw new ArgumentException($"message {i}: {problem}", nameof(messages));
            }

            size += NetlinkMessage.Align(messages[i].Length);
        }

        var bytes = new byte[size];
        begin.CopyTo(bytes, 0);
        var offset = begin.Length;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = bytes.AsSpan(offset, messages[i].Length);
            messages[i].Span.CopyTo(m);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(m[6..]) | NLM_F_REQUEST | (i == messages.Count - 1 ? NLM_F_ACK : 0);
            BinaryPrimitives.WriteUInt16LittleEndian(m[6..], (ushort)flags);
            BinaryPrimitives.WriteUInt32LittleEndian(m[8..], firstSequence + 1 + (uint)i);
            offset += NetlinkMessage.Align(m.Length);
        }

        end.CopyTo(bytes, offset);
        return new NfnetlinkBatch(bytes, firstSequence, firstSequence + (uint)messages.Count);
    }

    /// <summary>Which message <paramref name="sequence"/> numbers; null for the framing and for other replies.</summary>
    public int? IndexOf(uint sequence) => sequence > Begin && sequence <= Last ? (int)(sequence - Begin - 1) : null;

    // A message the kernel would misread would fail the batch with a confusing error, or shift its neighbours.
    private static string? Problem(ReadOnlySpan<byte> m, ushort subsystem)
    {
        if (m.Length < HeaderLength + 4 || BinaryPrimitives.ReadUInt32LittleEndian(m) != m.Length)
        {
            return $"its nlmsg_len does not match its {m.Length} bytes";
        }

        var type = BinaryPrimitives.ReadUInt16LittleEndian(m[4..]);
        return type >> 8 == subsystem ? null : $"type 0x{type:x4} is not of subsystem {subsystem}";
    }
}
