namespace ArcBox.Policy.Diagnostics;

public enum Severity
{
    Error,
    Warning,
}
