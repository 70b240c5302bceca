using System.Collections.Immutable;

namespace ArcBox.Netfilter.Plan;

/// <summary>A named set or map.</summary>
/// <param name="Type">"type ipv4_addr", "typeof iifname . @th,64,128" or, for a map, "type ifname : verdict".</param>
/// <param name="Flags">"interval", "timeout" or null.</param>
public sealed record NftSet(string Name, string Type, string? Flags, ImmutableArray<string> Elements, bool IsMap = false);
