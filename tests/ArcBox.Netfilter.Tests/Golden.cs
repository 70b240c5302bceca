using System.Net;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Rendering;
using ArcBox.Policy.Parsing;
using ArcBox.Testing;

namespace ArcBox.Netfilter.Tests;

/// <summary>The golden corpus: tests/testdata/golden/NAME.yaml compiled for one sandbox, v4-only and dual-stack.</summary>
public static class Golden
{
    public static string Dir => Path.Combine(RepoPaths.TestData, "golden");

    public static NetworkConfig V4 { get; } = NetworkConfig.Create("ab", IPNetwork.Parse("10.0.0.0/24"));

    public static NetworkConfig Dual { get; } = NetworkConfig.Create("ab", IPNetwork.Parse("10.0.0.0/24"), IPNetwork.Parse("fd00:ab::/64"));

    public static IEnumerable<string> Names => Directory.GetFiles(Dir, "*.yaml").Select(Path.GetFileNameWithoutExtension).Order()!;

    public static SandboxIdentity Web(NetworkConfig network) =>
        SandboxIdentity.Create(network, "web", IPAddress.Parse("10.0.0.2"), network.DualStack ? IPAddress.Parse("fd00:ab::2") : null, "02:00:0a:00:00:02");

    /// <summary>Every rendering of one golden policy, keyed by the extension of its expected file.</summary>
    public static IReadOnlyDictionary<string, string> Render(string name)
    {
        var path = Path.Combine(Dir, name + ".yaml");
        var policy = PolicyParser.Parse(File.ReadAllText(path), path).Policy ?? throw new InvalidOperationException(name + " does not validate");
        var result = new Dictionary<string, string>();
        foreach (var (suffix, network) in new[] { ("nft", V4), ("dual.nft", Dual) })
        {
            var plan = SandboxCompiler.Compile(network, Web(network), policy);
            result[suffix] = NftRenderer.RenderRuleset(BaseTableBuilder.Build(network), [plan]);
        }

        result["iptables"] = IptablesRenderer.Render(V4, Web(V4), policy);
        return result;
    }
}
