using ArcBox.Policy.Model;

namespace ArcBox.Policy.Diagnostics;

/// <summary>One problem in a policy, printed as <c>file:line:column: error: message</c>.</summary>
public sealed record Diagnostic(Severity Severity, SourceLocation Location, string Message)
{
    public bool IsError => Severity == Severity.Error;

    public override string ToString() =>
        $"{Location}: {(IsError ? "error" : "warning")}: {Message}";
}
