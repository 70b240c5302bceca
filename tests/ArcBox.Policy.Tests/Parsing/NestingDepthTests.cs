using System.Text;
using ArcBox.Policy.Parsing;
using CsCheck;

namespace ArcBox.Policy.Tests.Parsing;

/// <summary>
/// YAML nested without bound: 50,000 levels in about 100 KB used to overflow the stack in YamlDotNet's node model and
/// abort the whole process (daemon or CLI). The depth is bounded before any node is built.
/// </summary>
public class NestingDepthTests
{
    [Fact]
    public void Fifty_thousand_levels_are_refused_with_where_the_limit_is_passed()
    {
        var result = PolicyParser.Parse("network: " + new string('[', 50_000), "deep.yaml");
        var error = Assert.Single(result.Errors);

        // The mapping is level 1, so the 64th '[' (column 9 + 64) is level 65.
        Assert.Equal($"deep.yaml:1:73: error: YAML nested deeper than {YamlLoader.MaxDepth} levels", error.ToString());
    }

    [Theory]
    [InlineData('[', ']')]
    [InlineData('{', '}')]
    public void Flow_collections_nest_up_to_the_limit(char open, char close)
    {
        string Nested(int levels) => "network: " + new string(open, levels) + new string(close, levels);

        // 63 levels inside the top mapping: deep, but within the bound (the reader then refuses the type).
        Assert.DoesNotContain(PolicyParser.Parse(Nested(YamlLoader.MaxDepth - 1), "t.yaml").Errors, d => d.Message.Contains("nested deeper", StringComparison.Ordinal));
        Assert.Contains(PolicyParser.Parse(Nested(YamlLoader.MaxDepth), "t.yaml").Errors, d => d.Message.Contains("nested deeper", StringComparison.Ordinal));
    }

    [Fact]
    public void Block_nesting_is_bounded_too()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            text.Append(' ', i).Append("k:\n");
        }

        var error = Assert.Single(PolicyParser.Parse(text.ToString(), "t.yaml").Errors);
        Assert.Equal($"t.yaml:{YamlLoader.MaxDepth + 1}:{YamlLoader.MaxDepth + 1}: error: YAML nested deeper than {YamlLoader.MaxDepth} levels", error.ToString());
    }

    /// <summary>Random mixes of flow sequences and flow mappings, up to 60,000 deep, closed or not:
    /// never an exception, and the depth error exactly when the text nests past the bound.</summary>
    [Fact]
    public void Any_mix_of_nesting_parses_without_throwing()
    {
        var kinds = Gen.OneOfConst("[", "{a: ");
        Gen.Select(Gen.Int[1, 60_000], kinds.Array[1, 4], Gen.Bool).Sample(
            (depth, pattern, closed) =>
            {
                var text = new StringBuilder("network: ");
                for (var i = 0; i < depth; i++)
                {
                    text.Append(pattern[i % pattern.Length]);
                }

                if (closed)
                {
                    for (var i = depth - 1; i >= 0; i--)
                    {
                        text.Append(pattern[i % pattern.Length] == "[" ? "]" : "}");
                    }
                }

                var result = PolicyParser.Parse(text.ToString(), "t.yaml");
                var deep = result.Errors.Any(d => d.Message.Contains("nested deeper", StringComparison.Ordinal));
                return result.Policy is null && (depth + 1 > YamlLoader.MaxDepth ? deep : !deep);
            },
            iter: 200);
    }
}
