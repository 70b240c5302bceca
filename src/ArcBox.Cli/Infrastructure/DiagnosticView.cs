using ArcBox.Policy.Diagnostics;

namespace ArcBox.Cli.Infrastructure;

/// <summary>A diagnostic as --json prints it.</summary>
public sealed record DiagnosticView(string File, int Line, int Column, string Severity, string Message)
{
    public static DiagnosticView From(Diagnostic d) =>
        new(d.Location.File, d.Location.Line, d.Location.Column, d.IsError ? "error" : "warning", d.Message);
}
