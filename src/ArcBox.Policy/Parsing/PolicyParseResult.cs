using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;

namespace ArcBox.Policy.Parsing;

/// <summary>The policy (null when any error was found) and every diagnostic, errors and warnings, in file order.</summary>
public sealed record PolicyParseResult(SandboxPolicy? Policy, ImmutableArray<Diagnostic> Diagnostics)
{
    [MemberNotNullWhen(true, nameof(Policy))]
    public bool Success => Policy is not null;

    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.IsError);
}
