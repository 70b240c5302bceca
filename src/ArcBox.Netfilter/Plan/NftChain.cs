using System.Collections.Immutable;

namespace ArcBox.Netfilter.Plan;

/// <param name="Hook">For base chains: "type filter hook forward priority filter; policy accept;".</param>
public sealed record NftChain(string Name, ImmutableArray<NftRule> Rules, string? Hook = null);
