namespace ArcBox.Linux;

/// <summary>
/// nftables refused a transaction; nothing of it was applied. Through libnftables the message is nft's own; through
/// a netlink batch the kernel's refusal is the inner <see cref="KernelException"/>, its errno with it, and the
/// message reads outer to inner: "nft transaction: delete chain inet sb_web_out: ENOENT (No such file or directory)".
/// </summary>
public sealed class NftablesException(string operation, string nftError, Exception? inner = null)
    : Exception($"{operation}: {nftError.Trim()}", inner)
{
    public string Operation { get; } = operation;

    public string NftError { get; } = nftError;

    /// <summary>The errno when the kernel itself refused (a netlink batch); null for what libnftables refused.</summary>
    public Errno? Errno => (InnerException as KernelException)?.Errno;
}
