using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;

namespace ArcBox.Policy;

/// <summary>The policies a sandbox gets by name instead of a file.</summary>
public static class BuiltinPolicies
{
    public const string DefaultName = "default";
    public const string OfflineName = "offline";

    /// <summary>The seed policy without its inbound rule: DNS, HTTP and HTTPS out, nothing in.</summary>
    public const string DefaultYaml = """
        # ArcBox built-in policy 'default': DNS, HTTP and HTTPS out; nothing in.
        network:
          outbound:
            - protocol: tcp
              ports: [80, 443]
            - protocol: udp
              port: 53 # DNS only
        """;

    public const string OfflineYaml = """
        # ArcBox built-in policy 'offline': nothing in or out.
        network: {}
        """;

    public static SandboxPolicy Default { get; } = Load(DefaultYaml, DefaultName);

    public static SandboxPolicy Offline { get; } = Load(OfflineYaml, OfflineName);

    public static bool TryGet(string name, out SandboxPolicy policy)
    {
        switch (name)
        {
            case DefaultName:
                policy = Default;
                return true;
            case OfflineName:
                policy = Offline;
                return true;
            default:
                policy = null!;
                return false;
        }
    }

    private static SandboxPolicy Load(string yaml, string name)
    {
        var result = PolicyParser.Parse(yaml + "\n", "<built-in:" + name + ">");
        return result.Policy ?? throw new InvalidOperationException($"built-in policy '{name}' does not validate: {string.Join("; ", result.Diagnostics)}");
    }
}
