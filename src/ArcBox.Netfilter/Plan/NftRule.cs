namespace ArcBox.Netfilter.Plan;

/// <summary>One rule in nft syntax, without the trailing comment, which carries the policy rule id.</summary>
public sealed record NftRule(string Text, string? Comment = null)
{
    public string Render() => Comment is null ? Text : $"{Text} comment \"{Comment}\"";
}
