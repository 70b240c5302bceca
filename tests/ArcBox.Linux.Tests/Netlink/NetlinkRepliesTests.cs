using System.Buffers.Binary;
using ArcBox.Linux.Netlink;
using static ArcBox.Linux.Netlink.NetlinkConstants;

namespace ArcBox.Linux.Tests.Netlink;

/// <summary>
/// What the kernel answers: a datagram of messages, each NLMSG_ALIGNed, and NLMSG_ERROR (s32 -errno, the request's
/// nlmsghdr, whole unless NLM_F_CAPPED, then NLM_F_ACK_TLVS attributes) turned into a typed errno.
/// </summary>
public class NetlinkRepliesTests
{
    [Fact]
    public void A_datagram_splits_into_its_messages()
    {
        var ack = Error(0, seq: 8, capped: true);
        var done = Convert.FromHexString("14000000030002000900000000000000" + "00000000");
        var messages = NetlinkSocket.Messages([.. ack, .. done]);
        Assert.Equal([(NLMSG_ERROR, 8u), (NLMSG_DONE, 9u)], messages.Select(m => (m.Type, m.Seq)));
        Assert.Equal(4 + HeaderLength, messages[0].Payload.Length);
    }

    [Fact]
    public void An_acknowledgement_is_no_error() =>
        NetlinkSocket.ThrowIfError(Payload(Error(0, seq: 1, capped: true)), NLM_F_CAPPED, "add chain inet sb_web_out");

    [Fact]
    public void An_error_names_the_operation_and_keeps_its_errno_and_the_kernels_words()
    {
        var reply = Error(2, seq: 3, capped: true, message: "No such chain");
        var error = Assert.Throws<KernelException>(() => NetlinkSocket.ThrowIfError(Payload(reply), (ushort)(NLM_F_CAPPED | NLM_F_ACK_TLVS), "delete chain inet x"));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Equal("delete chain inet x", error.Operation);
        Assert.Equal("delete chain inet x: ENOENT (No such file or directory) - No such chain", error.Message);
    }

    [Fact]
    public void Extended_attributes_follow_a_whole_echoed_request_when_not_capped()
    {
        // The request echoed whole: nlmsghdr plus 8 bytes of its payload, then NLMSGERR_ATTR_MSG.
        var request = Convert.FromHexString("18000000100001000500000000000000" + "0102030405060708");
        var payload = new List<byte>();
        payload.AddRange(BitConverter.GetBytes(-17));
        payload.AddRange(request);
        payload.AddRange(Attribute(NLMSGERR_ATTR_MSG, "link exists"));
        var error = Assert.Throws<KernelException>(() => NetlinkSocket.ThrowIfError([.. payload], NLM_F_ACK_TLVS, "add link ab-web"));
        Assert.Equal(Errno.EEXIST, error.Errno);
        Assert.EndsWith(" - link exists", error.Message, StringComparison.Ordinal);
    }

    // NLMSG_ERROR for request `seq`: header, s32 -errno, the request's nlmsghdr (capped), optional message attribute.
    private static byte[] Error(int errno, uint seq, bool capped, string? message = null)
    {
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes(-errno));
        var echoed = new byte[HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(echoed, capped ? HeaderLength : 64u);
        BinaryPrimitives.WriteUInt32LittleEndian(echoed.AsSpan(8), seq);
        body.AddRange(echoed);
        if (message is not null)
        {
            body.AddRange(Attribute(NLMSGERR_ATTR_MSG, message));
        }

        var header = new byte[HeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(HeaderLength + body.Count));
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), NLMSG_ERROR);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), (ushort)((capped ? NLM_F_CAPPED : 0) | (message is null ? 0 : NLM_F_ACK_TLVS)));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), seq);
        return [.. header, .. body];
    }

    private static byte[] Payload(byte[] message) => message[HeaderLength..];

    private static byte[] Attribute(ushort type, string text)
    {
        var value = System.Text.Encoding.UTF8.GetBytes(text + "\0");
        var attribute = new byte[NetlinkMessage.Align(4 + value.Length)];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute.AsSpan(2), type);
        value.CopyTo(attribute, 4);
        return attribute;
    }
}
