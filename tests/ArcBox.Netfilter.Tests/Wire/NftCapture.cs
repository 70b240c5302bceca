using ArcBox.Testing;

namespace ArcBox.Netfilter.Tests.Wire;

/// <summary>
/// A case of tests/testdata/netlink: NAME.nft (setup, then after "#capture" the script captured) and NAME.netlink,
/// the batch nft sent for it as capture.sh recorded it, one message a line, batch begin and end included.
/// </summary>
public sealed class NftCapture
{
    public const string Marker = "#capture\n";

    private NftCapture(string name, string setup, string script, IReadOnlyList<(string Label, byte[] Bytes)> batch)
    {
        Name = name;
        Setup = setup;
        Script = script;
        Batch = batch;
    }

    public static string Dir => Path.Combine(RepoPaths.TestData, "netlink");

    public string Name { get; }

    /// <summary>What NAME.nft has up to and including the marker.</summary>
    public string Setup { get; }

    /// <summary>The commands captured: what follows the marker.</summary>
    public string Script { get; }

    public IReadOnlyList<(string Label, byte[] Bytes)> Batch { get; }

    /// <summary>The messages between NFNL_MSG_BATCH_BEGIN and NFNL_MSG_BATCH_END.</summary>
    public IReadOnlyList<byte[]> Messages => [.. Batch.Skip(1).SkipLast(1).Select(m => m.Bytes)];

    public static NftCapture Load(string name)
    {
        var text = File.ReadAllText(Path.Combine(Dir, name + ".nft"));
        var at = text.IndexOf(Marker, StringComparison.Ordinal);
        if (at < 0 || (at > 0 && text[at - 1] != '\n'))
        {
            throw new InvalidOperationException($"{name}.nft has no line {Marker.Trim()}");
        }

        var netlink = Path.Combine(Dir, name + ".netlink");
        var batch = File.Exists(netlink)
            ? File.ReadAllLines(netlink).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(' ')).Select(p => (p[0], Convert.FromHexString(p[1]))).ToList()
            : [];
        return new NftCapture(name, text[..(at + Marker.Length)], text[(at + Marker.Length)..], batch);
    }
}
