namespace ArcBox.Policy.Model;

/// <summary>Where something was written: file, 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public static readonly SourceLocation None = new("<built-in>", 0, 0);

    public override string ToString() => $"{File}:{Line}:{Column}";
}
