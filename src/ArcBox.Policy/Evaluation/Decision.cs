namespace ArcBox.Policy.Evaluation;

/// <summary>Allowed or denied, and the id of the rule that decided (null: the default deny).</summary>
public sealed record Decision(bool Allowed, string? RuleId)
{
    public const string DefaultRule = "default";

    public static readonly Decision DefaultDeny = new(false, null);

    public string Verdict => Allowed ? "allow" : "deny";

    public string Rule => RuleId ?? DefaultRule;

    public override string ToString() => Allowed ? $"allowed by {RuleId}" : RuleId is null ? "denied (default deny)" : $"denied by {RuleId}";
}
