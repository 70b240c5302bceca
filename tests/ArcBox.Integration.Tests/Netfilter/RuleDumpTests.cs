using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter.Counters;
using ArcBox.Netfilter.Tests;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Netfilter;

/// <summary>The daemon's netlink dump of rule counters reads the kernel exactly as `nft -j list table` does.</summary>
public class RuleDumpTests
{
    public static TheoryData<string> Cases() => new(Golden.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Netlink_dump_and_nft_listing_give_the_same_counters(string name)
    {
        Assert.SkipWhen(Root.WhyNot("nft", "ip") is not null, Root.WhyNot("nft", "ip") ?? "");
        using var ns = new TestNamespace("dump");
        // Every rule's counter starts at a different value, so that a mix-up of rules or fields shows.
        var n = 0;
        var script = System.Text.RegularExpressions.Regex.Replace(
            File.ReadAllText(Path.Combine(Golden.Dir, $"{name}.dual.nft")),
            @"(?m)(?<=^\t\t.*)\bcounter (?!name)",
            _ => $"counter packets {++n} bytes {n * 1000 + 7} ");
        ns.Nft(script).EnsureSuccess("load");
        var listing = RuleCounters.Parse(ns.Exec("nft", "-j", "list", "table", "inet", Golden.Dual.Table).EnsureSuccess("list").Stdout);

        using var netns = NetworkNamespace.Open(TestNetwork.NetnsPath(ns));
        using var dump = NftRuleDump.OpenIn(netns);
        var rules = dump.Rules(Golden.Dual.Table);
        var dumped = RuleCounters.Aggregate(rules.Select(r => new CountedRule(r.Chain, r.Comment, (long)r.Packets, (long)r.Bytes, r.Verdict switch { 0 => "drop", 1 or -5 => "allow", _ => null })));

        Assert.NotEmpty(listing);
        Assert.Contains(listing, c => c.Packets > 0 && c.Bytes > c.Packets);
        Assert.Equal(listing, dumped);
        Assert.Contains(rules, r => r.Comment == "default" && r.Verdict == 0);
        Assert.Empty(dump.Rules("no-such-table"));
    }
}
