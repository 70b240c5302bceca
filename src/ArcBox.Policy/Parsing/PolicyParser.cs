using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;

namespace ArcBox.Policy.Parsing;

/// <summary>Reads policy YAML. Reports every problem it finds; a policy with any error is not returned.</summary>
public static class PolicyParser
{
    public const int MaxFileBytes = 1 << 20;

    /// <param name="text">The policy's YAML; reading it from a file is the caller's business (the core does no I/O).</param>
    /// <param name="file">The name diagnostics give as their location.</param>
    public static PolicyParseResult Parse(string text, string file)
    {
        if (text.Length > MaxFileBytes)
        {
            return Fail(file, $"policy is {text.Length} characters; the maximum is {MaxFileBytes}");
        }

        var (root, error) = YamlLoader.Load(text, file, "the policy is empty; expected a 'network:' mapping");
        if (root is null)
        {
            return new PolicyParseResult(null, [error!]);
        }

        var reader = new PolicyReader(file, text);
        var policy = reader.Read(root);
        return new PolicyParseResult(policy, reader.Diagnostics);
    }

    private static PolicyParseResult Fail(string file, string message) =>
        new(null, [new Diagnostic(Severity.Error, new SourceLocation(file, 1, 1), message)]);
}
