using ArcBox.Netfilter.Counters;

namespace ArcBox.Netfilter.Tests.Counters;

public sealed class RuleCountersTests
{
    private static string Rule(string chain, string? comment, long? packets, string verdict) =>
        "{\"rule\": {\"family\": \"inet\", \"table\": \"arcbox-ab\", \"chain\": \"" + chain + "\", \"handle\": 1"
        + (comment is null ? "" : ", \"comment\": \"" + comment + "\"")
        + ", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 80}}"
        + (packets is null ? "" : ", {\"counter\": {\"packets\": " + packets + ", \"bytes\": " + (packets * 100) + "}}")
        + ", {\"" + verdict + "\": null}]}}";

    private static string Listing(params string[] items) =>
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}}, {\"table\": {\"family\": \"inet\", \"name\": \"arcbox-ab\", \"handle\": 1}}, "
        + string.Join(", ", items) + "]}";

    [Fact]
    public void Rules_expanded_from_one_policy_rule_are_summed_under_its_id_per_direction_and_verdict()
    {
        var json = Listing(
            Rule("sb_web_out", "outbound[0]", 3, "return"),
            Rule("sb_web_out", "outbound[0]", 4, "return"),
            Rule("sb_web_host", "outbound[1]", 2, "accept"),
            Rule("sb_web_out", "default", 5, "drop"),
            Rule("sb_web_out", "default", null, "drop"),
            Rule("sb_web_host", "default", 1, "drop"),
            Rule("sb_web_in", "inbound[0]", 9, "accept"),
            Rule("sb_web_hostin", "default", 6, "drop"),
            Rule("sb_db_out", "outbound[0]", 11, "return"),
            Rule("forward_filter", null, 100, "accept"),
            Rule("sandbox_guard", "spoof", 100, "drop"));

        var all = RuleCounters.Parse(json);

        Assert.Equal(
        [
            new RuleCounter("db", "out", "outbound[0]", "allow", 11, 1100),
            new RuleCounter("web", "out", "outbound[0]", "allow", 7, 700),
            new RuleCounter("web", "out", "outbound[1]", "allow", 2, 200),
            new RuleCounter("web", "out", "default", "drop", 6, 600),
            new RuleCounter("web", "in", "inbound[0]", "allow", 9, 900),
            new RuleCounter("web", "in", "default", "drop", 6, 600),
        ], all);
        Assert.All(RuleCounters.Parse(json, "db"), c => Assert.Equal("db", c.Sandbox));
        Assert.Empty(RuleCounters.Parse(json, "nosuch"));
    }
}
