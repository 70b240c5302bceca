using System.Collections.Immutable;
using ArcBox.Netfilter.Plan;

namespace ArcBox.Netfilter.Tests.Wire;

/// <summary>
/// One transaction of tests/testdata/netlink: the changes, the sandbox's own sets (whose types say how their
/// elements are encoded), and the name of the NAME.nft / NAME.netlink pair that holds nft's script and messages.
/// Objects are those of a second sandbox, "api", next to the "web" of golden/default.dual.nft that capture.sh loads.
/// </summary>
public sealed record NftCaptureCase(string Name, ImmutableArray<NftChange> Changes, ImmutableArray<NftSet> Own)
{
    private const string Dom4 = "sb_api_o0_dom4_5f3a9c";
    private const string Dom6 = "sb_api_o0_dom6_5f3a9c";

    public static ImmutableArray<NftCaptureCase> All { get; } =
    [
        new("chains", [new AddChainChange("sb_api_out"), new FlushChainChange("sb_api_in"), new DeleteChainChange("sb_api_old")], []),
        new(
            "sets",
            [new AddSetChange(DomainSet(Dom4, "ipv4_addr")), new AddSetChange(DomainSet(Dom6, "ipv6_addr")), new DeleteSetChange("sb_api_o1_dom4_0c1d2e")],
            []),
        new(
            "rules-ipv4",
            [
                Rule("sb_api_in", "meta l4proto @l4_tcpudp th dport 8080 ip saddr 10.0.0.0/24 counter accept", "inbound[0]"),
                Rule("sb_api_out", "tcp dport 443 ip daddr != @nonpublic4 counter return", "outbound[0]"),
                Rule("sb_api_out", "tcp dport 5432-5433 ip daddr 172.16.0.0/12 counter return", "outbound[1]"),
                Rule("sb_api_out", "udp dport 53 ip daddr 198.51.100.7 counter return", "outbound[2]"),
                Rule("sb_api_out", "meta l4proto @l4_icmp ip daddr @net4 counter return", "outbound[2]"),
                Rule("sb_api_out", $"tcp dport 80 ip daddr @{Dom4} limit rate 20/second burst 40 packets log prefix \"ab-api out outbound[3] \" group 21232", "outbound[3]"),
                Rule("sb_api_out", "tcp dport 5432 oifname \"ab-db\" counter return", "outbound[4]"),
            ],
            [DomainSet(Dom4, "ipv4_addr")]),
        new(
            "rules-ipv6",
            [
                Rule("sb_api_out", "tcp dport 443 ip6 daddr != @nonpublic6 counter return", "outbound[0]"),
                Rule("sb_api_out", "meta l4proto @l4_tcpudp th dport 3000 ip6 daddr 2001:db8::/32 counter return", "outbound[5]"),
                Rule("sb_api_out", "ip6 daddr fd00::/7 counter return", "outbound[6]"),
                Rule("sb_api_out", "ip6 daddr fd00:ab::5 counter return", "outbound[7]"),
                Rule("sb_api_in", "meta l4proto @l4_icmp ip6 saddr != @nonpublic6 counter accept", "inbound[2]"),
                Rule("sb_api_in", "udp dport 161-162 iifname \"ab-monitor\" counter accept", "inbound[1]"),
            ],
            []),
        new(
            "rules-verdicts",
            [
                Rule("sb_api_out", "counter limit rate 20/second burst 40 packets log prefix \"ab-api out default \" group 21232 drop", "default"),
                Rule("sb_api_out", "counter drop", "default"),
                Rule("sb_api_in", "drop", "default"),
                Rule("sb_api_host", "jump sb_api_in"),
                Rule("sb_api_host", "goto sb_api_in"),
                Rule("sb_api_host", "return"),
                Rule("sb_api_host", "accept"),
            ],
            []),
        new(
            "elements-sandbox",
            [
                Add("interfaces", "\"ab-api\"", "\"ab-db\""),
                Add("out_dispatch", "\"ab-api\" : jump sb_api_out"),
                Add("in_dispatch", "\"ab-api\" : goto sb_api_in"),
                Add("host_dispatch", "\"ab-api\" : goto sb_api_host"),
                Add("source4", "\"ab-api\" . 02:00:0a:00:00:03 . 10.0.0.3"),
                Add("mac", "\"ab-api\" . 02:00:0a:00:00:03"),
                Add("addr6", "\"ab-api\" . fd00:ab::3"),
                Add("nd_target6", "\"ab-api\" . 0xfd0000ab000000000000000000000003"),
                Add("dhcp_clients", "\"ab-api\" . 02:00:0a:00:00:03"),
                Add("dhcp_links", "\"ab-api\""),
                new AddElementsChange("arp", "arp_ok", ["\"ab-api\" . 10.0.0.3 . 02:00:0a:00:00:03"]),
            ],
            []),
        new(
            "elements-forwards",
            [
                Add("forward4", "192.0.2.1 . tcp . 8000 : 10.0.0.3 . 3000"),
                Add("forward_any4", "udp . 9000 : 10.0.0.3 . 53"),
                Add("forward_allowed4", "10.0.0.3 . tcp . 3000", "10.0.0.3 . udp . 53"),
                Add("forward6", "2001:db8::1 . tcp . 8000 : fd00:ab::3 . 3000"),
                Add("forward_any6", "tcp . 8443 : fd00:ab::3 . 443"),
                Add("forward_allowed6", "fd00:ab::3 . tcp . 3000"),
            ],
            []),
        new(
            "elements-learnt",
            [
                // As the daemon learns an address again: deleted and added in one transaction, so the new timeout counts.
                new DeleteElementsChange("inet", Dom4, ["203.0.113.7"]),
                new AddElementsChange("inet", Dom4, ["203.0.113.7 timeout 120s", "198.51.100.9 timeout 30s"]),
                new AddElementsChange("inet", Dom6, ["2001:db8::7 timeout 300s"]),
            ],
            [DomainSet(Dom4, "ipv4_addr"), DomainSet(Dom6, "ipv6_addr")]),
        new(
            "elements-delete",
            [
                new DeleteElementsChange("inet", "interfaces", ["\"ab-api\""]),
                new DeleteElementsChange("inet", "source4", ["\"ab-api\" . 02:00:0a:00:00:03 . 10.0.0.3"]),
                new DeleteElementsChange("inet", "out_dispatch", ["\"ab-api\""]),
                new DeleteElementsChange("inet", "forward4", ["192.0.2.1 . tcp . 8000"]),
                new DeleteElementsChange("arp", "arp_ok", ["\"ab-api\" . 10.0.0.3 . 02:00:0a:00:00:03"]),
            ],
            []),

        // Not encoded by us: WireRenderer refuses interval sets and the change goes through libnftables.
        new("elements-interval", [Add("sb_api_nets4", "10.1.0.0/16", "192.0.2.7")], [new NftSet("sb_api_nets4", "type ipv4_addr", "interval", [])]),
    ];

    private static NftSet DomainSet(string name, string type) => new(name, "type " + type, "timeout", []);

    private static AddRuleChange Rule(string chain, string text, string? comment = null) => new(chain, new NftRule(text, comment));

    private static AddElementsChange Add(string set, params string[] values) => new("inet", set, [.. values]);
}
