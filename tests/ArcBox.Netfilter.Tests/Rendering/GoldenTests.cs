namespace ArcBox.Netfilter.Tests.Rendering;

/// <summary>Policy YAML in, nft and iptables text out. ARCBOX_UPDATE_GOLDEN=1 rewrites the expected files.</summary>
public class GoldenTests
{
    public static TheoryData<string> Cases() => new(Golden.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renderings_match_the_golden_files(string name)
    {
        foreach (var (suffix, actual) in Golden.Render(name))
        {
            var path = Path.Combine(Golden.Dir, $"{name}.{suffix}");
            if (Environment.GetEnvironmentVariable("ARCBOX_UPDATE_GOLDEN") == "1")
            {
                File.WriteAllText(path, actual);
            }

            Assert.True(File.Exists(path), $"missing golden file {path}");
            Assert.Equal(File.ReadAllText(path), actual);
        }
    }
}
