using System.Text;
using ArcBox.Netfilter.Plan;

namespace ArcBox.Netfilter.Rendering;

/// <summary>Spells plan objects in nft's file syntax.</summary>
internal sealed class NftWriter
{
    private readonly StringBuilder text = new();

    public override string ToString() => text.ToString();

    public NftWriter Line(string line)
    {
        text.Append(line).Append('\n');
        return this;
    }

    public void Counter(string name) => Line($"\tcounter {name} {{ }}");

    public void Set(NftSet set, IReadOnlyList<string>? extraElements = null)
    {
        Line($"\t{(set.IsMap ? "map" : "set")} {set.Name} {{");
        Line($"\t\t{set.Type}");
        if (set.Flags is not null)
        {
            Line($"\t\tflags {set.Flags}");
        }

        var elements = extraElements is null ? set.Elements : [.. set.Elements, .. extraElements];
        if (elements.Length > 0)
        {
            var separator = elements.Length <= 4 ? ", " : ",\n\t\t\t     ";
            Line($"\t\telements = {{ {string.Join(separator, elements)} }}");
        }

        Line("\t}");
    }

    /// <summary>A set as one "add set" command (its elements, if any, inline).</summary>
    public void AddSet(string table, NftSet set)
    {
        var body = new System.Text.StringBuilder(set.Type).Append(';');
        if (set.Flags is not null)
        {
            body.Append(" flags ").Append(set.Flags).Append(';');
        }

        if (set.Elements.Length > 0)
        {
            body.Append(" elements = { ").Append(string.Join(", ", set.Elements)).Append(" };");
        }

        Line($"add {(set.IsMap ? "map" : "set")} inet {table} {set.Name} {{ {body} }}");
    }

    public void Chain(NftChain chain)
    {
        Line($"\tchain {chain.Name} {{");
        if (chain.Hook is not null)
        {
            Line($"\t\t{chain.Hook}");
        }

        foreach (var rule in chain.Rules)
        {
            Line("\t\t" + rule.Render());
        }

        Line("\t}");
    }

    public void Elements(string verb, string family, string table, string set, IEnumerable<string> values)
    {
        var list = values.ToList();
        if (list.Count > 0)
        {
            Line($"{verb} element {family} {table} {set} {{ {string.Join(",\n\t", list)} }}");
        }
    }
}
