using System.Text;
using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

/// <summary>Reads policy YAML. Reports every problem it finds; a policy with any error is not returned.</summary>
public static class PolicyParser
{
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Bounds the walk, so that YAML aliases cannot make a small file expand into a huge tree.</summary>
    internal const int MaxNodes = 100_000;

    public static PolicyParseResult ParseFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxFileBytes)
            {
                return Fail(path, $"policy file is {info.Length} bytes; the maximum is {MaxFileBytes}");
            }

            return Parse(File.ReadAllText(path, Encoding.UTF8), path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail(path, $"cannot read policy file: {ex.Message}");
        }
    }

    public static PolicyParseResult Parse(string text, string file)
    {
        if (text.Length > MaxFileBytes)
        {
            return Fail(file, $"policy is {text.Length} characters; the maximum is {MaxFileBytes}");
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            var location = new SourceLocation(file, (int)ex.Start.Line, (int)ex.Start.Column);
            return new PolicyParseResult(null, [new Diagnostic(Severity.Error, location, YamlMessage(ex))]);
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            return Fail(file, "the policy is empty; expected a 'network:' mapping");
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            return new PolicyParseResult(null, [new Diagnostic(Severity.Error, new SourceLocation(file, (int)second.Start.Line, (int)second.Start.Column), "a policy file holds one YAML document; found a second one")]);
        }

        var root = stream.Documents[0].RootNode;
        if (CountNodes(root, MaxNodes) >= MaxNodes)
        {
            return Fail(file, $"the policy has more than {MaxNodes} YAML nodes (aliases expanded)");
        }

        var reader = new PolicyReader(file, text);
        var policy = reader.Read(root);
        return new PolicyParseResult(policy, reader.Diagnostics);
    }

    internal static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && (string.IsNullOrEmpty(s.Value) || s.Value is "~" or "null" or "Null" or "NULL");

    private static PolicyParseResult Fail(string file, string message) =>
        new(null, [new Diagnostic(Severity.Error, new SourceLocation(file, 1, 1), message)]);

    // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: ..) - (...)": the location is already ours.
    private static string YamlMessage(YamlException ex)
    {
        var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        if (message.StartsWith("Duplicate key ", StringComparison.Ordinal))
        {
            return $"duplicate key '{message["Duplicate key ".Length..]}'";
        }

        var dash = message.IndexOf("): ", StringComparison.Ordinal);
        return "YAML syntax: " + (dash >= 0 && message.StartsWith('(') ? message[(dash + 3)..] : message);
    }

    private static int CountNodes(YamlNode node, int cap)
    {
        var count = 0;
        var stack = new Stack<YamlNode>();
        stack.Push(node);
        while (stack.Count > 0 && count < cap)
        {
            var n = stack.Pop();
            count++;
            switch (n)
            {
                case YamlSequenceNode seq:
                    foreach (var child in seq.Children)
                    {
                        stack.Push(child);
                    }

                    break;
                case YamlMappingNode map:
                    foreach (var pair in map.Children)
                    {
                        stack.Push(pair.Key);
                        stack.Push(pair.Value);
                    }

                    break;
            }
        }

        return count;
    }
}
