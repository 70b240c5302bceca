using System.Collections.Immutable;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Plan;

/// <summary>Everything one sandbox owns in the kernel: its chains and sets, and its elements in shared sets.</summary>
public sealed record SandboxPlan(
    SandboxIdentity Identity,
    SandboxPolicy Policy,
    ImmutableArray<NftSet> Sets,
    ImmutableArray<NftChain> Chains,
    ImmutableArray<NftElement> Elements);
