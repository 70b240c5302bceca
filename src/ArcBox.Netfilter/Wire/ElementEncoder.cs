namespace ArcBox.Netfilter.Wire;

/// <summary>
/// The attributes of NFT_MSG_NEWSETELEM and NFT_MSG_DELSETELEM: NFTA_SET_ELEM_LIST_TABLE 1, SET 2, ELEMENTS 3,
/// each element NFTA_SET_ELEM_KEY 1, DATA 2 (bytes or a verdict, maps only), TIMEOUT 4 (be64 milliseconds). A
/// delete names elements by key alone.
/// </summary>
internal static class ElementEncoder
{
    private const ushort NFTA_SET_ELEM_LIST_TABLE = 1;
    private const ushort NFTA_SET_ELEM_LIST_SET = 2;
    private const ushort NFTA_SET_ELEM_LIST_ELEMENTS = 3;
    private const ushort NFTA_SET_ELEM_KEY = 1;
    private const ushort NFTA_SET_ELEM_DATA = 2;
    private const ushort NFTA_SET_ELEM_TIMEOUT = 4;

    public static void Elements(NetlinkMessageWriter m, string table, WireElements e)
    {
        m.AttrString(NFTA_SET_ELEM_LIST_TABLE, table).AttrString(NFTA_SET_ELEM_LIST_SET, e.Set);
        m.BeginNest(NFTA_SET_ELEM_LIST_ELEMENTS);
        foreach (var element in e.Elements)
        {
            m.BeginNest(NftData.NFTA_LIST_ELEM);
            NftData.Value(m, NFTA_SET_ELEM_KEY, element.Key.AsSpan());
            if (!e.Delete)
            {
                if (element.VerdictData is { } verdict)
                {
                    NftData.Verdict(m, NFTA_SET_ELEM_DATA, verdict);
                }
                else if (element.Data is { } data)
                {
                    NftData.Value(m, NFTA_SET_ELEM_DATA, data.AsSpan());
                }

                if (element.TimeoutMilliseconds is { } timeout)
                {
                    m.AttrBe64(NFTA_SET_ELEM_TIMEOUT, timeout);
                }
            }

            m.EndNest();
        }

        m.EndNest();
    }
}
