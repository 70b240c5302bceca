using ArcBox.Policy.Parsing;
using ArcBox.Testing;

namespace ArcBox.Policy.Tests.Parsing;

/// <summary>
/// tests/testdata/bad: each NAME.yaml has NAME.expected with every diagnostic as "line:column: severity: message".
/// ARCBOX_UPDATE_GOLDEN=1 rewrites the expectations (review the diff before committing).
/// </summary>
public class BadPolicyCorpusTests
{
    private static string Dir => Path.Combine(RepoPaths.TestData, "bad");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Dir, "*.yaml").Order())
        {
            data.Add(Path.GetFileNameWithoutExtension(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnostics_match_expectation(string name)
    {
        var path = Path.Combine(Dir, name + ".yaml");
        var result = PolicyParser.Parse(File.ReadAllText(path), path);
        var actual = string.Join('\n', result.Diagnostics.Select(d => d.ToString()[(path.Length + 1)..])) + "\n";
        var expectedPath = Path.Combine(Dir, name + ".expected");
        if (Environment.GetEnvironmentVariable("ARCBOX_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(expectedPath, actual);
        }

        Assert.True(File.Exists(expectedPath), $"missing {expectedPath}");
        Assert.Equal(File.ReadAllText(expectedPath), actual);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_bad_policy_is_refused_or_warned_and_locations_are_in_the_file(string name)
    {
        var path = Path.Combine(Dir, name + ".yaml");
        var lines = File.ReadAllLines(path);
        var result = PolicyParser.Parse(File.ReadAllText(path), path);
        Assert.NotEmpty(result.Diagnostics);
        Assert.True(!result.Success || result.Diagnostics.All(d => !d.IsError));
        foreach (var d in result.Diagnostics)
        {
            Assert.Equal(path, d.Location.File);
            Assert.InRange(d.Location.Line, 1, Math.Max(1, lines.Length));
        }
    }
}
