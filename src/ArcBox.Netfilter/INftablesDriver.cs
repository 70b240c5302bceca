namespace ArcBox.Netfilter;

/// <summary>
/// Applies nft scripts in one network namespace. Implemented over libnftables in ArcBox.Linux; each call is one
/// transaction that either applies whole or changes nothing.
/// </summary>
public interface INftablesDriver : IDisposable
{
    /// <summary>Runs <paramref name="script"/>; throws <see cref="NftablesException"/> with nft's own message on failure.</summary>
    void Run(string script);

    /// <summary>Runs a listing command ("list table inet arcbox-ab") and returns its output (JSON when asked).</summary>
    string List(string command, bool json = false);
}
