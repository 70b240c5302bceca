using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.Lookup;
using ArcBox.Policy.Parsing;

namespace ArcBox.Dns.Tests.Lookup;

public class DomainAdmissionTests
{
    private static readonly ArcBox.Policy.Model.SandboxPolicy Policy = PolicyParser.Parse("""
        network:
          outbound:
            - protocol: udp
              port: 53
            - protocol: tcp
              port: 443
              domains: [pypi.org]
            - protocol: tcp
              port: 80
              domains: ["*.example.com", pypi.org]
        """, "p.yaml").Policy!;

    private static DomainName N(string s) => DomainName.Parse(s);

    [Fact]
    public void Addresses_at_the_end_of_the_cname_chain_open_every_matching_rule()
    {
        var answers = new DnsRecordBase[]
        {
            new CNameRecord(N("pypi.org"), 300, N("dualstack.pypi.map.fastly.net")),
            new ARecord(N("dualstack.pypi.map.fastly.net"), 60, IPAddress.Parse("151.101.0.223")),
            new AaaaRecord(N("dualstack.pypi.map.fastly.net"), 60, IPAddress.Parse("2a04:4e42::223")),
        };
        var admitted = DomainAdmission.For(Policy, N("pypi.org"), answers, 30, 3600);
        Assert.Equal(4, admitted.Count);
        Assert.Equal([1, 2], admitted.Select(a => a.RuleIndex).Distinct().Order());
        Assert.All(admitted, a => Assert.Equal(60, a.TtlSeconds));
    }

    [Fact]
    public void Records_for_other_names_private_addresses_and_unmatched_names_are_ignored()
    {
        var answers = new DnsRecordBase[]
        {
            new ARecord(N("pypi.org"), 5, IPAddress.Parse("10.0.0.3")),
            new ARecord(N("pypi.org"), 5, IPAddress.Parse("169.254.169.254")),
            new ARecord(N("evil.example.net"), 5, IPAddress.Parse("203.0.113.66")),
            new ARecord(N("pypi.org"), 5, IPAddress.Parse("203.0.113.80")),
        };
        var admitted = DomainAdmission.For(Policy, N("pypi.org"), answers, 30, 3600);
        Assert.All(admitted, a => Assert.Equal(IPAddress.Parse("203.0.113.80"), a.Address));
        Assert.All(admitted, a => Assert.Equal(30, a.TtlSeconds));
        Assert.Empty(DomainAdmission.For(Policy, N("other.org"), [new ARecord(N("other.org"), 60, IPAddress.Parse("203.0.113.9"))], 30, 3600));
        Assert.Equal(3600, DomainAdmission.For(Policy, N("a.example.com"), [new ARecord(N("a.example.com"), 86400, IPAddress.Parse("203.0.113.9"))], 30, 3600).Single().TtlSeconds);
    }
}
