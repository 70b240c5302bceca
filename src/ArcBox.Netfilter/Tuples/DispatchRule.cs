namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// A forward path's lookup chain sends a peer of one family and region to that region's chain: `ip daddr @guarded4
/// goto out4_guarded`, `ip6 saddr @nonpublic6 goto in6_private`. The guarded rule comes first (guarded addresses are
/// non-public too).
/// </summary>
public sealed record DispatchRule(TuplePath Path, int Family, AddressRegion Region)
{
    public string Chain => TupleRenderer.LookupChain(Path);

    public string Set => (Region == AddressRegion.Guarded ? "guarded" : "nonpublic") + Family;

    public string Target => TupleRenderer.RegionChain(Path, Family, Region);

    /// <summary>The rules of a path in order (none for the host paths, whose keys have no address).</summary>
    public static IEnumerable<DispatchRule> Of(TuplePath path, bool dualStack)
    {
        if (path is not (TuplePath.Out or TuplePath.In))
        {
            yield break;
        }

        foreach (var family in dualStack ? new[] { 4, 6 } : [4])
        {
            yield return new DispatchRule(path, family, AddressRegion.Guarded);
            yield return new DispatchRule(path, family, AddressRegion.Private);
        }
    }

    public string Text => $"{(Family == 4 ? "ip" : "ip6")} {(Path == TuplePath.Out ? "daddr" : "saddr")} @{Set} goto {Target}";
}
