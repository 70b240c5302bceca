using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

/// <summary>Loads one YAML document into nodes with their marks, or a diagnostic that says where it breaks.</summary>
public static class YamlLoader
{
    /// <summary>Bounds the walk, so that YAML aliases cannot make a small file expand into a huge tree.</summary>
    public const int MaxNodes = 100_000;

    /// <summary>How deep mappings and sequences may nest. A policy needs about six levels; YamlDotNet's node model
    /// builds a tree recursively and overflows the stack (killing the process) at some tens of thousands.</summary>
    public const int MaxDepth = 64;

    public static (YamlNode? Root, Diagnostic? Error) Load(string text, string file, string emptyMessage)
    {
        if (TooDeep(text) is { } deep)
        {
            return (null, new Diagnostic(Severity.Error, new SourceLocation(file, (int)deep.Line, (int)deep.Column), $"YAML nested deeper than {MaxDepth} levels"));
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            return (null, new Diagnostic(Severity.Error, new SourceLocation(file, (int)ex.Start.Line, (int)ex.Start.Column), Message(ex)));
        }

        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            return (null, new Diagnostic(Severity.Error, new SourceLocation(file, 1, 1), emptyMessage));
        }

        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            return (null, new Diagnostic(Severity.Error, new SourceLocation(file, (int)second.Start.Line, (int)second.Start.Column), "a file holds one YAML document; found a second one"));
        }

        var root = stream.Documents[0].RootNode;
        if (CountNodes(root, MaxNodes) >= MaxNodes)
        {
            return (null, new Diagnostic(Severity.Error, new SourceLocation(file, 1, 1), $"the file has more than {MaxNodes} YAML nodes (aliases expanded)"));
        }

        return (root, null);
    }

    /// <summary>
    /// Where the events first nest deeper than <see cref="MaxDepth"/>, read before any node is built. YamlDotNet's
    /// parser keeps its states on a heap stack, so reading events does not recurse however deep the text nests.
    /// A syntax error stops the look-ahead; the load that follows reports it with its location.
    /// </summary>
    private static Mark? TooDeep(string text)
    {
        var parser = new Parser(new StringReader(text));
        var depth = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart when ++depth > MaxDepth:
                        return parser.Current.Start;
                    case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                        depth--;
                        break;
                }
            }
        }
        catch (YamlException)
        {
            return null;
        }

        return null;
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && (string.IsNullOrEmpty(s.Value) || s.Value is "~" or "null" or "Null" or "NULL");

    // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: ..) - (...)": the location is already ours.
    private static string Message(YamlException ex)
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
