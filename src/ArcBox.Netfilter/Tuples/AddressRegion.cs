namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// The three kinds of peer address the base chain tells apart with one interval-set lookup each, before any tuple:
/// each region has its own lookup chain, so a region's tuples never see another region's addresses and a block may
/// run across them. Without that, a rule that treats public and private addresses differently would write the public
/// space as the complement of the non-public ranges: over a hundred IPv6 blocks of as many prefix lengths.
/// </summary>
public enum AddressRegion
{
    /// <summary>Not in `nonpublic4`/`nonpublic6` (which hold the non-public ranges and the subnets): what `internet` means.</summary>
    Public,

    /// <summary>Non-public and not guarded.</summary>
    Private,

    /// <summary>Link-local and metadata addresses (`guarded4`/`guarded6`), which only a CIDR inside their ranges reaches.</summary>
    Guarded,
}
