using System.Collections.Immutable;
using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;
using YamlDotNet.RepresentationModel;

namespace ArcBox.Policy.Parsing;

/// <summary>
/// Typed access to the nodes of one YAML file: every mismatch is reported at its file:line:column and the walk
/// goes on, so that a reader reports every problem at once. Policies and the daemon's config are read with it.
/// </summary>
public abstract class YamlReader(string file)
{
    private readonly List<Diagnostic> diagnostics = [];

    public ImmutableArray<Diagnostic> Diagnostics =>
        [.. diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];

    protected bool HasErrors => diagnostics.Any(d => d.IsError);

    protected int ErrorCount => diagnostics.Count(d => d.IsError);

    public readonly record struct Entry(YamlNode Key, YamlNode Value);

    protected SourceLocation At(YamlNode node) => new(file, (int)node.Start.Line, (int)node.Start.Column);

    protected void Error(YamlNode node, string message) => Error(At(node), message);

    protected void Error(SourceLocation location, string message) =>
        diagnostics.Add(new Diagnostic(Severity.Error, location, message));

    protected void Warning(SourceLocation location, string message) =>
        diagnostics.Add(new Diagnostic(Severity.Warning, location, message));

    protected static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when YamlLoader.IsNull(node) => "nothing",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "an unknown node",
    };

    /// <summary>The keys of a mapping; unknown keys are reported with the closest valid one.</summary>
    /// <param name="misplaced">A message for a key that is valid elsewhere but not here, or null.</param>
    protected Dictionary<string, Entry>? Mapping(YamlNode node, string what, IReadOnlyList<string> keys, Func<string, string?>? misplaced = null)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, $"{what} must be a mapping of keys ({string.Join(", ", keys)}), not {Describe(node)}");
            return null;
        }

        var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                Error(keyNode, $"keys in {what} must be plain words, not {Describe(keyNode)}");
                continue;
            }

            if (!keys.Contains(key))
            {
                var special = misplaced?.Invoke(key);
                Error(keyNode, special ?? $"unknown key '{key}' in {what}{KeySuggestion.DidYouMean(key, keys)}");
                continue;
            }

            if (!result.TryAdd(key, new Entry(keyNode, value)))
            {
                Error(keyNode, $"duplicate key '{key}' in {what}");
            }
        }

        return result;
    }

    /// <summary>The text of a scalar, null for an empty value; a list or mapping is reported.</summary>
    protected string? Scalar(YamlNode node, string what)
    {
        if (YamlLoader.IsNull(node))
        {
            return null;
        }

        if (node is YamlScalarNode s)
        {
            return s.Value;
        }

        Error(node, $"{what} must be a single value, not {Describe(node)}");
        return null;
    }

    /// <summary>A scalar or a list of scalars, each with its node; nested structures are reported.</summary>
    protected List<(string Text, YamlNode Node)> ScalarOrList(YamlNode node, string what)
    {
        var items = new List<(string, YamlNode)>();
        if (node is YamlSequenceNode seq)
        {
            if (seq.Children.Count == 0)
            {
                Error(node, $"{what} is an empty list; remove it or name at least one entry");
            }

            foreach (var child in seq.Children)
            {
                if (child is YamlScalarNode { Value: { Length: > 0 } v } && !YamlLoader.IsNull(child))
                {
                    items.Add((v, child));
                }
                else
                {
                    Error(child, $"entries of {what} must be single values, not {Describe(child)}");
                }
            }
        }
        else if (node is YamlScalarNode { Value: { Length: > 0 } v } && !YamlLoader.IsNull(node))
        {
            items.Add((v, node));
        }
        else
        {
            Error(node, $"{what} must be a value or a list of values, not {Describe(node)}");
        }

        return items;
    }
}
