namespace ArcBox.Netfilter.Plan;

/// <summary>An element a sandbox puts into a set or map that all sandboxes share.</summary>
/// <param name="Family">"inet" or "arp": the table of that family named after the network.</param>
public sealed record NftElement(string Family, string Set, string Value);
