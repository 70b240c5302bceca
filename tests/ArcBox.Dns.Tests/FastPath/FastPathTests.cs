using System.Buffers.Binary;
using System.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.FastPath;
using ArcBox.Dns.Server;

namespace ArcBox.Dns.Tests.FastPath;

/// <summary>
/// The UDP fast path against the ARSoft.Tools.Net slow path, which is the reference: for every query it answers
/// from the cache, the response must be byte for byte what the slow path sends for that same query.
/// </summary>
public sealed class FastPathTests : IDisposable
{
    private readonly Harness h = new();

    public static TheoryData<string, RecordType> Cacheable => new()
    {
        { "db.internal", RecordType.A },
        { "db.internal", RecordType.Aaaa },
        { "a.b.svc.internal", RecordType.A },
        { "x.svc.internal", RecordType.Aaaa },
        { "alias.internal", RecordType.A },
        { "chain.internal", RecordType.A },
        { "chain.internal", RecordType.CName },
        { "info.internal", RecordType.Txt },
        { "3.0.0.10.in-addr.arpa", RecordType.Ptr },
        { "1.0.0.10.in-addr.arpa", RecordType.Ptr },
        { "db.arcbox.internal", RecordType.A },
        { "web.arcbox.internal", RecordType.Aaaa },
        { "host.arcbox.internal", RecordType.Any },
        { "nobody.arcbox.internal", RecordType.A },
        { "tunnel-1234abcd.evil.com", RecordType.Txt },
        { "www.example.org", RecordType.A },
        { "www.example.org", RecordType.Aaaa },
        { "alias.example.org", RecordType.A },
        { "txt.example.org", RecordType.Txt },
        { "gone.example.org", RecordType.A },
        { "out.internal", RecordType.A },
    };

    public void Dispose() => h.Dispose();

    [Theory]
    [MemberData(nameof(Cacheable))]
    public void A_hit_is_byte_for_byte_the_slow_paths_response(string name, RecordType type)
    {
        var first = h.Ask(Harness.Query(name, type, id: 1));
        Assert.Equal(Disposition.Slow, first.How);
        Assert.NotNull(first.Response);

        // Other ids, 0x20 letter case, with and without EDNS (DO, payload sizes, a cookie), RD off, CD on.
        var variants = new[]
        {
            Harness.Query(name, type, id: 2),
            Harness.Query(Mixed(name), type, id: 0xbeef),
            Harness.Query(name.ToUpperInvariant(), type, id: 3, edns: true),
            Harness.Query(Mixed(name), type, id: 4, edns: true, dnsSecOk: true, payload: 4096),
            Harness.Query(name, type, id: 5, edns: true, payload: 600, cookie: true),
            Harness.Query(name, type, id: 6, rd: false, cd: true),
            Harness.Query(name, type, id: 7, edns: true, payload: 100),
        };
        foreach (var query in variants)
        {
            var hit = h.Ask(query);
            Assert.Equal(Disposition.Answered, hit.How);
            Assert.Equal(h.SlowOnly(query), hit.Response);
        }
    }

    [Fact]
    public void Forwarded_ttls_count_down_as_the_answer_cache_ages_them_and_expire_with_it()
    {
        var query = Harness.Query("alias.example.org", id: 9, edns: true);
        h.Ask(query);
        var upstreamQueries = h.Upstream.Queries;
        foreach (var seconds in new[] { 0.4, 0.7, 1.0, 3.3, 20 })
        {
            h.Time.Advance(TimeSpan.FromSeconds(seconds));
            var hit = h.Ask(query);
            Assert.Equal(Disposition.Answered, hit.How);
            Assert.Equal(h.SlowOnly(query), hit.Response);
        }

        // 25.4 s on: the CNAME (30 s) has 5 left, the A record (60 s) 35.
        var ttls = DnsMessage.Parse(h.Ask(query).Response!).AnswerRecords.Select(r => r.TimeToLive);
        Assert.Equal([5, 35], ttls);

        // At 30 s the answer cache drops the entry, and so does the response cache: the upstream is asked again.
        h.Time.Advance(TimeSpan.FromSeconds(4.6));
        var expired = h.Ask(query);
        Assert.Equal(Disposition.Slow, expired.How);
        Assert.Equal(upstreamQueries + 1, h.Upstream.Queries);
        Assert.Equal([30, 60], DnsMessage.Parse(expired.Response!).AnswerRecords.Select(r => r.TimeToLive));
    }

    [Fact]
    public void Upstream_ttls_above_the_maximum_are_clamped_on_hits_as_on_the_slow_path()
    {
        using var clamped = new Harness(maxTtl: 45);
        var query = Harness.Query("www.example.org", id: 10);
        clamped.Ask(query);
        foreach (var seconds in new[] { 0, 10, 6, 1 })
        {
            clamped.Time.Advance(TimeSpan.FromSeconds(seconds));
            var hit = clamped.Ask(query);
            Assert.Equal(Disposition.Answered, hit.How);
            Assert.Equal(clamped.SlowOnly(query), hit.Response);
        }

        Assert.Equal([43], DnsMessage.Parse(clamped.Ask(query).Response!).AnswerRecords.Select(r => r.TimeToLive));
    }

    [Fact]
    public void A_hit_cached_under_an_older_snapshot_is_a_miss()
    {
        var query = Harness.Query("db.internal");
        h.Ask(query);
        Assert.Equal(Disposition.Answered, h.Ask(query).How);

        h.Server.Update(h.Snapshot(Harness.WebPolicy.Replace("db.internal: 10.0.0.5", "db.internal: 10.0.0.99", StringComparison.Ordinal)));
        var after = h.Ask(query);
        Assert.Equal(Disposition.Slow, after.How);
        Assert.Equal("10.0.0.99", ((ARecord)DnsMessage.Parse(after.Response!).AnswerRecords.Single()).Address.ToString());
        Assert.Equal(after.Response, h.Ask(query).Response);
    }

    [Fact]
    public void Answers_that_admit_addresses_are_never_cached()
    {
        var query = Harness.Query("allowed.example.com");
        for (var i = 0; i < 3; i++)
        {
            var r = h.Ask(query, Harness.Egress);
            Assert.Equal(Disposition.Slow, r.How);
            Assert.Equal(FakeUpstream.PublicAddress, ((ARecord)DnsMessage.Parse(r.Response!).AnswerRecords.Single()).Address.ToString());
        }

        Assert.Equal(3, h.Admitted.Count);
        Assert.All(h.Admitted, a => Assert.Equal("egress", a.Sandbox));

        // A private address is never admitted (rebinding), so that answer may be cached; the refusals too.
        var rebinding = Harness.Query("private.example.com");
        h.Ask(rebinding, Harness.Egress);
        Assert.Equal(Disposition.Answered, h.Ask(rebinding, Harness.Egress).How);
        Assert.Equal(3, h.Admitted.Count);
    }

    [Fact]
    public void Sandboxes_have_their_own_entries()
    {
        var query = Harness.Query("db.internal");
        h.Ask(query, Harness.Web);
        var db = h.Ask(query, Harness.Db);
        Assert.Equal(Disposition.Slow, db.How);
        Assert.Equal(ReturnCode.Refused, DnsMessage.Parse(db.Response!).ReturnCode);
        Assert.Equal(db.Response, h.Ask(query, Harness.Db).Response);
        Assert.Equal(Disposition.Answered, h.Ask(query, Harness.Web6).How);
    }

    [Fact]
    public void The_cache_stays_within_its_bound_under_a_flood_of_random_names()
    {
        using var small = new Harness(cacheSize: 16);
        for (var i = 0; i < 500; i++)
        {
            var r = small.Ask(Harness.Query($"t{i:x8}.tunnel.evil.com", RecordType.Txt));
            Assert.Equal(ReturnCode.Refused, DnsMessage.Parse(r.Response!).ReturnCode);
            Assert.InRange(small.Server.FastState().Cache.Count, 0, 16);
        }

        var query = Harness.Query("db.internal");
        small.Ask(query);
        Assert.Equal(Disposition.Answered, small.Ask(query).How);
    }

    [Fact]
    public void Responses_over_the_clients_udp_size_go_to_the_slow_path_which_truncates()
    {
        var big = Harness.Query("big.example.org", RecordType.Txt, edns: true, payload: 4096);
        h.Ask(big);
        Assert.Equal(Disposition.Answered, h.Ask(big).How);

        var small = Harness.Query("big.example.org", RecordType.Txt);
        var r = h.Ask(small);
        Assert.Equal(Disposition.Slow, r.How);
        Assert.True(DnsMessage.Parse(r.Response!).IsTruncated);
    }

    [Fact]
    public void Every_hit_is_logged_with_its_sandbox_name_type_answers_and_verdict()
    {
        var query = Harness.Query("Alias.Internal");
        h.Ask(query);
        h.Ask(query);
        h.Ask(Harness.Query("nope.evil.com"));
        h.Ask(Harness.Query("nope.evil.com"));
        var log = h.Server.Log.For("web");
        Assert.Equal(4, log.Count);
        Assert.Equal(log[0].Answers, log[1].Answers);
        Assert.Equal(["CNAME db.internal", "A 10.0.0.5"], log[1].Answers);
        Assert.Equal(("alias.internal", "A", "local"), (log[1].Name, log[1].Type, log[1].Verdict));
        Assert.Equal(("nope.evil.com", "refused"), (log[3].Name, log[3].Verdict));
        Assert.Equal([1L, 2, 3, 4], log.Select(e => e.Sequence));
    }

    [Fact]
    public void A_hit_allocates_nothing_but_its_log_entry()
    {
        var query = Harness.Query("a.b.svc.internal", edns: true);
        var from = Harness.Address(Harness.Web);
        var response = new byte[WireQuery.MaxUdp];
        h.Ask(query);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(Disposition.Answered, h.Server.Receive(query, from, response, out _, out _));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        _ = new QueryLogEntry(DateTimeOffset.UtcNow, "web", "x", RecordType.A, "local", [], [], 0);
        var entry = GC.GetAllocatedBytesForCurrentThread() - before;

        const int hits = 10_000;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < hits; i++)
        {
            h.Server.Receive(query, from, response, out _, out _);
        }

        // A one-off (a runtime-internal buffer) aside, each hit allocates its log entry and nothing else.
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, (hits * entry) + 256);
    }

    [Fact]
    public void Over_its_rate_a_sandbox_gets_silence_on_the_fast_path_too()
    {
        using var limited = new Harness(queriesPerSecond: 5);
        var query = Harness.Query("db.internal");
        var answered = Enumerable.Range(0, 30).Count(_ => limited.Ask(query).Response is not null);
        Assert.InRange(answered, 10, 12);
        Assert.Equal(30 - answered, limited.Server.RateLimited);
    }

    private static string Mixed(string name) =>
        string.Concat(name.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
}
