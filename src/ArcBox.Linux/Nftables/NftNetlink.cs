using ArcBox.Linux.Netlink;

namespace ArcBox.Linux.Nftables;

/// <summary>
/// Writes nf_tables transactions straight to the kernel, each one nfnetlink batch. libnftables refreshes its cache of
/// every chain and set before each transaction that follows a commit: at 1,000 sandboxes that was 2 ms of every
/// create and policy swap, plus parsing the script. The messages come encoded (ArcBox.Netfilter's WireEncoder
/// spells them, pure code), so nothing needs to be read first; this only frames, sends and reads the answers.
/// </summary>
public sealed class NftNetlink : IDisposable
{
    private const ushort Subsystem = 10; // NFNL_SUBSYS_NFTABLES

    private readonly NetlinkSocket socket;

    private NftNetlink(NetlinkSocket socket) => this.socket = socket;

    /// <summary>A writer for the calling thread's namespace.</summary>
    public static NftNetlink Open() => new(NetlinkSocket.OpenNetfilter());

    /// <summary>A writer for another namespace: the socket is created there and used from here.</summary>
    public static NftNetlink OpenIn(Namespaces.NetworkNamespace ns) => new(NetlinkSocket.OpenNetfilterIn(ns));

    /// <summary>
    /// Applies <paramref name="messages"/> in one transaction. A refusal is an <see cref="NftablesException"/> naming
    /// the message through <paramref name="describe"/>, the kernel's <see cref="KernelException"/> inside.
    /// </summary>
    /// <param name="messages">nf_tables messages (nlmsghdr, nfgenmsg, attributes); the batch numbers them.</param>
    /// <param name="describe">What message i does, for errors: "delete chain inet sb_web_out".</param>
    public void Commit(IReadOnlyList<ReadOnlyMemory<byte>> messages, Func<int, string> describe)
    {
        if (messages.Count == 0)
        {
            return;
        }

        try
        {
            socket.Batch(messages, Subsystem, describe);
        }
        catch (KernelException ex)
        {
            throw new NftablesException("nft transaction", ex.Message, ex);
        }
    }

    /// <summary>
    /// <see cref="Commit"/>, and the last counters of the set elements it deleted with an echo asked
    /// (NLM_F_ECHO on their NFT_MSG_DELSETELEM): the kernel reports each deleted element, its counter included, at the
    /// commit itself, so no packet counted before the delete is lost and none after it is counted.
    /// </summary>
    public List<NftElementCounter> CommitCountingDeletes(IReadOnlyList<ReadOnlyMemory<byte>> messages, Func<int, string> describe)
    {
        var counters = new List<NftElementCounter>();
        if (messages.Count == 0)
        {
            return counters;
        }

        try
        {
            socket.Batch(messages, Subsystem, describe, (type, payload) =>
            {
                if (type == Netlink.NftElementNotification.DelSetElem)
                {
                    counters.AddRange(Netlink.NftElementNotification.Counters(payload));
                }
            });
        }
        catch (KernelException ex)
        {
            throw new NftablesException("nft transaction", ex.Message, ex);
        }

        return counters;
    }

    public void Dispose() => socket.Dispose();
}
