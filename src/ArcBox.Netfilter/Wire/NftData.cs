namespace ArcBox.Netfilter.Wire;

/// <summary>
/// struct nft_data as attributes (linux/netfilter/nf_tables.h): NFTA_DATA_VALUE holds bytes, NFTA_DATA_VERDICT a
/// verdict code and, for jump and goto, the chain. The registers are the legacy 16-byte ones nft uses.
/// </summary>
internal static class NftData
{
    public const ushort NFTA_LIST_ELEM = 1;

    /// <summary>NFT_REG_VERDICT: immediate writes verdicts there.</summary>
    public const uint RegVerdict = 0;

    /// <summary>NFT_REG_1, the first data register, where every load of our rules goes.</summary>
    public const uint Reg1 = 1;

    private const ushort NFTA_DATA_VALUE = 1;
    private const ushort NFTA_DATA_VERDICT = 2;
    private const ushort NFTA_VERDICT_CODE = 1;
    private const ushort NFTA_VERDICT_CHAIN = 2;

    /// <summary>Attribute <paramref name="type"/> holding NFTA_DATA_VALUE.</summary>
    public static void Value(NetlinkMessageWriter m, ushort type, ReadOnlySpan<byte> data)
    {
        m.BeginNest(type);
        m.Attr(NFTA_DATA_VALUE, data);
        m.EndNest();
    }

    /// <summary>Attribute <paramref name="type"/> holding NFTA_DATA_VERDICT.</summary>
    public static void Verdict(NetlinkMessageWriter m, ushort type, Verdict verdict)
    {
        m.BeginNest(type);
        m.BeginNest(NFTA_DATA_VERDICT);
        m.AttrBe32(NFTA_VERDICT_CODE, unchecked((uint)verdict.Code));
        if (verdict.Chain is { } chain)
        {
            m.AttrString(NFTA_VERDICT_CHAIN, chain);
        }

        m.EndNest();
        m.EndNest();
    }
}
