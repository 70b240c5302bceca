using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.Lookup;
using ArcBox.Policy;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Parsing;

namespace ArcBox.Dns.Tests.Lookup;

public class LocalResolverTests
{
    private static readonly SandboxDnsView Web = View("web", "10.0.0.2", """
        network:
          outbound:
            - protocol: udp
              port: 53
          dns:
            records:
              db.internal: 10.0.0.5
              "*.svc.internal": [10.0.0.6, "fd00::6"]
              "*.a.svc.internal": 10.0.0.7
              alias.internal: { cname: db.internal }
              loop1.internal: { cname: loop2.internal }
              loop2.internal: { cname: loop1.internal }
              out.internal: { cname: pypi.org }
              info.internal: { txt: "hello" }
            resolve: [pypi.org, "*.pythonhosted.org"]
        """, "fd00::2");

    private static readonly SandboxDnsView Db = View("db", "10.0.0.3", "network: {}\n");

    private static readonly ResolverSnapshot Snapshot = ResolverSnapshot.Create(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1"), [Web, Db], [new IPEndPoint(IPAddress.Parse("203.0.113.53"), 53)]);

    private static SandboxDnsView View(string name, string ip, string yaml, string? ip6 = null) =>
        new(name, new SandboxAddresses(IPAddress.Parse(ip), ip6 is null ? null : IPAddress.Parse(ip6)), PolicyParser.Parse(yaml, name + ".yaml").Policy ?? throw new InvalidOperationException(yaml));

    private static LookupResult Ask(string name, RecordType type = RecordType.A, SandboxDnsView? from = null) =>
        LocalResolver.Lookup(Snapshot, from ?? Web, DomainName.Parse(name), type);

    private static string[] Texts(LookupResult r) => [.. r.Records.Select(x => x switch
    {
        ARecord a => $"A {a.Address}",
        AaaaRecord a => $"AAAA {a.Address}",
        CNameRecord c => $"CNAME {c.CanonicalName}",
        TxtRecord t => $"TXT {t.TextData}",
        PtrRecord p => $"PTR {p.PointerDomainName}",
        _ => x.ToString(),
    })];

    [Fact]
    public void Sandbox_names_and_the_host_resolve_in_the_zone()
    {
        Assert.Equal(["A 10.0.0.3"], Texts(Ask("db.arcbox.internal")));
        Assert.Equal(["A 10.0.0.1"], Texts(Ask("host.arcbox.internal")));
        Assert.Equal(["AAAA fd00::2"], Texts(Ask("WEB.arcbox.internal.", RecordType.Aaaa)));
        Assert.Equal(LookupOutcome.NxDomain, Ask("nobody.arcbox.internal").Outcome);
        var nodata = Ask("db.arcbox.internal", RecordType.Aaaa);
        Assert.Equal(LookupOutcome.Answer, nodata.Outcome);
        Assert.Empty(nodata.Records);
    }

    [Fact]
    public void Ptr_answers_for_sandbox_and_gateway_addresses()
    {
        Assert.Equal(["PTR db.arcbox.internal."], Texts(Ask("3.0.0.10.in-addr.arpa", RecordType.Ptr)));
        Assert.Equal(["PTR host.arcbox.internal."], Texts(Ask("1.0.0.10.in-addr.arpa", RecordType.Ptr)));
        var v6 = string.Join('.', "fd000000000000000000000000000002".Reverse()) + ".ip6.arpa";
        Assert.Equal(["PTR web.arcbox.internal."], Texts(Ask(v6, RecordType.Ptr)));
    }

    [Fact]
    public void Policy_records_exact_wildcard_longest_cname_txt()
    {
        Assert.Equal(["A 10.0.0.5"], Texts(Ask("db.internal")));
        Assert.Equal(["A 10.0.0.6"], Texts(Ask("x.svc.internal")));
        Assert.Equal(["AAAA fd00::6"], Texts(Ask("x.y.svc.internal", RecordType.Aaaa)));
        Assert.Equal(["A 10.0.0.7"], Texts(Ask("b.a.svc.internal")));
        Assert.Equal(["CNAME db.internal.", "A 10.0.0.5"], Texts(Ask("alias.internal")));
        Assert.Equal(["TXT hello"], Texts(Ask("info.internal", RecordType.Txt)));
        Assert.Equal(LookupOutcome.Answer, Ask("loop1.internal").Outcome);
    }

    [Fact]
    public void Cname_to_an_outside_name_is_forwarded_for_its_target()
    {
        var r = Ask("out.internal");
        Assert.Equal(LookupOutcome.Forward, r.Outcome);
        Assert.Equal("pypi.org", LocalResolver.Text(r.ForwardName!));
        Assert.Equal(["CNAME pypi.org."], Texts(r));
    }

    [Fact]
    public void Upstream_only_for_allowed_names()
    {
        Assert.Equal(LookupOutcome.Forward, Ask("pypi.org").Outcome);
        Assert.Equal(LookupOutcome.Forward, Ask("files.pythonhosted.org").Outcome);
        Assert.Equal(LookupOutcome.Refused, Ask("exfil-4e6f7420736563726574.evil.example").Outcome);
        Assert.Equal(LookupOutcome.Refused, Ask("pythonhosted.org").Outcome);
    }

    [Fact]
    public void Without_resolve_the_domains_rules_decide_and_without_either_everything_goes()
    {
        var domains = View("d", "10.0.0.9", "network:\n  outbound:\n    - protocol: tcp\n      port: 443\n      domains: [\"*.example.com\"]\n");
        Assert.Equal(LookupOutcome.Forward, Ask("a.example.com", from: domains).Outcome);
        Assert.Equal(LookupOutcome.Refused, Ask("example.org", from: domains).Outcome);
        var open = View("o", "10.0.0.10", BuiltinPolicies.DefaultYaml);
        Assert.Equal(LookupOutcome.Forward, Ask("anything.example.net", from: open).Outcome);
    }
}
