using System.Collections.Immutable;

namespace ArcBox.Netfilter.Plan;

/// <summary>
/// One step of an incremental change to our tables (adding, swapping or removing a sandbox). A list of steps is
/// one transaction; it is spelt either as an nft script (<see cref="Rendering.NftRenderer"/>) or as an nf_tables
/// netlink batch (<see cref="Wire.WireRenderer"/>), the same steps in the same order.
/// </summary>
public abstract record NftChange;

/// <summary>A set of the inet table owned by one sandbox (its domains sets).</summary>
public sealed record AddSetChange(NftSet Set) : NftChange;

public sealed record DeleteSetChange(string Name) : NftChange;

/// <summary>A regular chain of the inet table; adding one that exists changes nothing.</summary>
public sealed record AddChainChange(string Name) : NftChange;

public sealed record FlushChainChange(string Name) : NftChange;

public sealed record DeleteChainChange(string Name) : NftChange;

/// <summary>A rule appended to a chain of the inet table.</summary>
public sealed record AddRuleChange(string Chain, NftRule Rule) : NftChange;

/// <summary>Elements added to a set or map of the table of <paramref name="Family"/>.</summary>
public sealed record AddElementsChange(string Family, string Set, ImmutableArray<string> Values) : NftChange;

/// <summary>Elements removed, by key (for a map, the part before " : ").</summary>
public sealed record DeleteElementsChange(string Family, string Set, ImmutableArray<string> Keys) : NftChange;
