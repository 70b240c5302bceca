using System.Collections.Immutable;

namespace ArcBox.Netfilter.Plan;

/// <summary>The tables every network has before any sandbox exists: default drop for every interface with our prefix.</summary>
public sealed record BasePlan(
    NetworkConfig Network,
    ImmutableArray<NftSet> Sets,
    ImmutableArray<string> Counters,
    ImmutableArray<NftChain> Chains,
    ImmutableArray<NftSet> ArpSets,
    ImmutableArray<NftChain> ArpChains);
