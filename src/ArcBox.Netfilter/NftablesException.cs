namespace ArcBox.Netfilter;

/// <summary>nftables rejected a transaction; nothing of it was applied.</summary>
public sealed class NftablesException(string operation, string nftError) : Exception($"{operation}: {nftError.Trim()}")
{
    public string Operation { get; } = operation;

    public string NftError { get; } = nftError;
}
