using System.Net;
using ArcBox.Policy.Evaluation;

namespace ArcBox.Netfilter;

/// <summary>What the compiler needs to know of one ArcBox network.</summary>
/// <param name="Prefix">Starts every kernel name we create: interfaces ("ab-web"), the nft table ("arcbox-ab").</param>
/// <param name="Uplink">The interface that masquerades egress; null masquerades on every non-sandbox interface.</param>
/// <param name="LogGroup">NFLOG group that flow-log events go to: derived from the prefix (see <see cref="LogGroupFor"/>),
/// so that daemons side by side in one namespace read their own events.</param>
/// <param name="LogRatePerSecond">Kernel-side cap on logged packets per sandbox rule, so a flood cannot swamp the daemon.</param>
public sealed record NetworkConfig(
    string Prefix,
    IPNetwork Subnet4,
    IPAddress Gateway4,
    IPNetwork? Subnet6 = null,
    IPAddress? Gateway6 = null,
    string? Uplink = null,
    int LogGroup = 1,
    int LogRatePerSecond = 20)
{
    public const string DefaultPrefix = "ab";
    public const int MaxPrefixLength = 6;

    public static NetworkConfig Default { get; } = Create(DefaultPrefix, IPNetwork.Parse("10.0.0.0/24"));

    public bool DualStack => Subnet6 is not null;

    public string Table => "arcbox-" + Prefix;

    /// <summary>Wildcard that matches every interface we create (nft syntax).</summary>
    public string InterfaceWildcard => Prefix + "-*";

    public static NetworkConfig Create(string prefix, IPNetwork subnet4, IPNetwork? subnet6 = null, string? uplink = null) =>
        new(prefix, subnet4, NetworkView.FirstHost(subnet4), subnet6, subnet6 is { } s ? NetworkView.FirstHost(s) : null, uplink, LogGroupFor(prefix));

    /// <summary>
    /// An NFLOG group per prefix (FNV-1a of the prefix into 1-65535): a group has one reader per namespace, and
    /// several daemons may share the host namespace. Two prefixes that map to the same group are told apart by the
    /// second daemon's warning that it cannot bind the group.
    /// </summary>
    public static int LogGroupFor(string prefix)
    {
        var hash = 2166136261u;
        foreach (var c in prefix)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % 65535) + 1;
    }

    public NetworkView ToView() => new(Subnet4, Gateway4, Subnet6, Gateway6, [], System.Collections.Immutable.ImmutableDictionary<string, SandboxAddresses>.Empty);

    /// <summary>Null when valid, else what is wrong with the prefix.</summary>
    public static string? ValidatePrefix(string prefix) =>
        prefix.Length is 0 or > MaxPrefixLength || !char.IsAsciiLetterLower(prefix[0]) || !prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            ? $"invalid prefix '{prefix}': use 1-{MaxPrefixLength} lower-case letters and digits, starting with a letter"
            : null;
}
