using ArcBox.Cli.Infrastructure;
using ArcBox.Policy.Parsing;

namespace ArcBox.Cli.Tests.Infrastructure;

/// <summary>The CLI reads policy files itself; what cannot be read is a diagnostic at file:1:1, not an exception.</summary>
public class PolicyFileReaderTests
{
    [Fact]
    public void Missing_file_is_a_diagnostic_not_an_exception()
    {
        var result = PolicyFileReader.Parse("/nonexistent/policy.yaml");
        Assert.False(result.Success);
        var d = Assert.Single(result.Diagnostics);
        Assert.True(d.IsError);
        Assert.Equal(("/nonexistent/policy.yaml", 1, 1), (d.Location.File, d.Location.Line, d.Location.Column));
        Assert.StartsWith("cannot read policy file: ", d.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/policy.yaml", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_over_the_limit_is_refused_before_it_is_read()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[PolicyParser.MaxFileBytes + 1]);
            var d = Assert.Single(PolicyFileReader.Parse(path).Diagnostics);
            Assert.Equal($"policy file is {PolicyParser.MaxFileBytes + 1} bytes; the maximum is {PolicyParser.MaxFileBytes}", d.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_readable_file_parses_as_its_text_with_its_path_in_every_diagnostic()
    {
        var path = CliRunner.Bad("unknown-keys");
        var expected = PolicyParser.Parse(File.ReadAllText(path), path);
        var actual = PolicyFileReader.Parse(path);
        Assert.NotEmpty(actual.Diagnostics);
        Assert.Equal(expected.Diagnostics.Select(d => d.ToString()), actual.Diagnostics.Select(d => d.ToString()));
        Assert.All(actual.Diagnostics, d => Assert.Equal(path, d.Location.File));
    }
}
