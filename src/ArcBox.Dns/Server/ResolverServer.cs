using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ArcBox.Dns.FastPath;
using ArcBox.Dns.Lookup;

namespace ArcBox.Dns.Server;

/// <summary>
/// The resolver every sandbox talks to (the firewall redirects all their DNS here). The sandbox is known by the
/// source address, which anti-spoofing guarantees. Addresses opened for domains rules go into the firewall before
/// the answer leaves, so the first connection after a lookup is already allowed.
/// </summary>
public sealed partial class ResolverServer : IDisposable
{
    private readonly DnsSettings settings;
    private readonly Func<string, IReadOnlyList<Admission>, Task> admit;
    private readonly DnsServer? tcp;
    private readonly List<UdpFrontend> udp = [];
    private readonly ConcurrentDictionary<string, DnsClient> clients = new(StringComparer.Ordinal);
    private readonly RateLimiter limiter;
    private readonly AnswerCache cache;
    private readonly TimeProvider time;
    private readonly int responseCacheSize;
    private ResolverSnapshot snapshot;

    // The UDP fast path's state (ResolverServer.Udp.cs) for the snapshot it was built from.
    private FastPathState? fast;
    private long malformed;
    private long rateLimited;
    private long upstreamFailures;

    /// <param name="admit">Puts admitted addresses into the sandbox's firewall sets; called before answering.</param>
    public ResolverServer(IEnumerable<IPEndPoint> endpoints, DnsSettings settings, ResolverSnapshot initial, Func<string, IReadOnlyList<Admission>, Task> admit)
        : this(endpoints, settings, initial, admit, TimeProvider.System, 16_384)
    {
    }

    /// <param name="time">The clock upstream answers age by (tests count TTLs down without waiting).</param>
    /// <param name="responseCacheSize">Encoded answers kept for the UDP fast path, per snapshot.</param>
    internal ResolverServer(IEnumerable<IPEndPoint> endpoints, DnsSettings settings, ResolverSnapshot initial, Func<string, IReadOnlyList<Admission>, Task> admit, TimeProvider time, int responseCacheSize)
    {
        this.settings = settings;
        this.admit = admit;
        this.time = time;
        this.responseCacheSize = responseCacheSize;
        cache = new AnswerCache(10_000, time);
        snapshot = initial;
        limiter = new RateLimiter(settings.QueriesPerSecond);
        Log = new QueryLog(settings.LogSize);
        var list = endpoints.ToList();
        foreach (var endpoint in list)
        {
            udp.Add(new UdpFrontend(endpoint, this));
        }

        // TCP (large answers, truncated UDP retries) is rare: ARSoft.Tools.Net's server handles it. Without
        // endpoints (tests drive the UDP paths directly) there is none.
        if (list.Count == 0)
        {
            return;
        }

        tcp = new DnsServer([.. list.Select(e => (IServerTransport)new TcpServerTransport(e, 5000, 120))]);
        tcp.ClientConnected += OnClientConnected;
        tcp.QueryReceived += OnQueryReceived;
        tcp.ExceptionThrown += (_, _) =>
        {
            Interlocked.Increment(ref malformed);
            return Task.CompletedTask;
        };
    }

    public QueryLog Log { get; }

    /// <summary>The per-sandbox query rate buckets.</summary>
    public RateLimiter Limiter => limiter;

    /// <summary>Forgets what the resolver keeps of a removed sandbox: its query log and its rate bucket.</summary>
    public void Forget(string sandbox)
    {
        Log.Forget(sandbox);
        limiter.Forget(sandbox);
    }

    /// <summary>Packets that could not be parsed or answered (dropped, counted).</summary>
    public long Malformed => Interlocked.Read(ref malformed);

    public long RateLimited => Interlocked.Read(ref rateLimited);

    public long UpstreamFailures => Interlocked.Read(ref upstreamFailures);

    public void Start()
    {
        tcp?.Start();
        foreach (var frontend in udp)
        {
            frontend.Start();
        }
    }

    /// <summary>Takes effect for the next query.</summary>
    public void Update(ResolverSnapshot next) => Volatile.Write(ref snapshot, next);

    /// <summary>Replaces the current snapshot with a function of it (callers serialise their changes).</summary>
    public void Update(Func<ResolverSnapshot, ResolverSnapshot> change) => Volatile.Write(ref snapshot, change(Volatile.Read(ref snapshot)));

    public void Dispose()
    {
        try
        {
            tcp?.Stop();
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OperationCanceledException))
        {
            // ARSoft.Tools.Net's Stop waits for its listener tasks and reports their cancellation.
        }

        foreach (var frontend in udp)
        {
            frontend.Dispose();
        }
    }

    /// <summary>Resolves as <paramref name="sandbox"/> would (what `arcbox dns query` shows).</summary>
    public async Task<(DnsMessage Response, QueryLogEntry Entry)> QueryAsAsync(string sandbox, DomainName name, RecordType type, bool admitAddresses)
    {
        var s = Volatile.Read(ref snapshot);
        if (!s.ByName.TryGetValue(sandbox, out var view))
        {
            throw new KeyNotFoundException($"no sandbox named '{sandbox}'");
        }

        var query = new DnsMessage { IsQuery = true, IsRecursionDesired = true };
        query.Questions.Add(new DnsQuestion(name, type, RecordClass.INet));
        var (response, entry, _) = await Answer(s, view, query, admitAddresses);
        return (response, entry);
    }

    /// <summary>
    /// Before a packet is even parsed: only sandboxes may ask, and a sandbox over its rate gets silence, not
    /// answers (its own resolver retries later), so a flood costs almost nothing and other sandboxes keep theirs.
    /// </summary>
    private Task OnClientConnected(object sender, ClientConnectedEventArgs e)
    {
        var source = e.RemoteEndpoint.Address.IsIPv4MappedToIPv6 ? e.RemoteEndpoint.Address.MapToIPv4() : e.RemoteEndpoint.Address;
        e.RefuseConnect = !Accept(source);
        return Task.CompletedTask;
    }

    private bool Accept(IPAddress source)
    {
        if (!Volatile.Read(ref snapshot).ByAddress.TryGetValue(source, out var view))
        {
            return false;
        }

        if (limiter.Allow(view.Name))
        {
            return true;
        }

        Interlocked.Increment(ref rateLimited);
        return false;
    }

    private async Task OnQueryReceived(object sender, QueryReceivedEventArgs e)
    {
        var source = e.RemoteEndpoint.Address.IsIPv4MappedToIPv6 ? e.RemoteEndpoint.Address.MapToIPv4() : e.RemoteEndpoint.Address;
        if (e.Query is DnsMessage query)
        {
            e.Response = await HandleAsync(query, source);
        }
    }

    private async ValueTask<DnsMessage?> HandleAsync(DnsMessage query, IPAddress source)
    {
        if (query.Questions.Count != 1 || !query.IsQuery)
        {
            Interlocked.Increment(ref malformed);
            return null;
        }

        var s = Volatile.Read(ref snapshot);
        if (!s.ByAddress.TryGetValue(source, out var view))
        {
            return null;
        }

        var (response, entry, _) = await Answer(s, view, query, admitAddresses: true);
        Log.Add(entry);
        return response;
    }

    /// <returns>The response, its log entry, and for the UDP fast path's cache a hint when the answer may be kept.</returns>
    private async ValueTask<(DnsMessage Response, QueryLogEntry Entry, CacheHint? Hint)> Answer(ResolverSnapshot s, SandboxDnsView view, DnsMessage query, bool admitAddresses)
    {
        var started = Stopwatch.GetTimestamp();
        var question = query.Questions[0];
        var response = query.CreateResponseInstance();
        response.IsRecursionAllowed = true;
        var lookup = LocalResolver.Lookup(s, view, question.Name, question.RecordType);
        string verdict;
        List<DnsRecordBase> answers = [.. lookup.Records];
        CachedAnswer? upstreamEntry = null;
        switch (lookup.Outcome)
        {
            case LookupOutcome.Refused:
                response.ReturnCode = ReturnCode.Refused;
                verdict = "refused";
                break;
            case LookupOutcome.NxDomain:
                response.ReturnCode = ReturnCode.NxDomain;
                verdict = "nxdomain";
                break;
            case LookupOutcome.Forward:
                var upstream = await Forward(view, lookup.ForwardName!, question.RecordType);
                if (upstream is not { } forwarded)
                {
                    response.ReturnCode = ReturnCode.ServerFailure;
                    verdict = "servfail";
                    break;
                }

                response.ReturnCode = forwarded.Code;
                answers.AddRange(forwarded.Records);
                upstreamEntry = forwarded.Entry;
                verdict = "forwarded";
                break;
            default:
                response.ReturnCode = ReturnCode.NoError;
                verdict = "local";
                break;
        }

        // Clients must not cache an address longer than the firewall admits it.
        if (answers.Any(r => r.TimeToLive > settings.MaxTtl))
        {
            answers = [.. answers.Select(r => ClampTtl(r, settings.MaxTtl))];
        }

        IReadOnlyList<Admission> admissions = view.HasDomainRules ? DomainAdmission.For(view.Policy, question.Name, answers, settings.MinTtl, settings.MaxTtl) : [];
        if (admitAddresses && admissions.Count > 0)
        {
            try
            {
                await admit(view.Name, admissions);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // An answer the firewall does not reflect would only produce failing connections.
                response.ReturnCode = ReturnCode.ServerFailure;
                answers.Clear();
                verdict = "servfail";
            }
        }

        response.AnswerRecords.AddRange(answers);
        var name = LocalResolver.Text(question.Name);
        var entry = new QueryLogEntry(DateTimeOffset.UtcNow, view.Name, name, question.RecordType, verdict, answers, admissions, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        // Admissions must always go through here; an upstream answer the answer cache did not keep is not kept either.
        var cacheable = admissions.Count == 0 && verdict != "servfail" && (lookup.Outcome != LookupOutcome.Forward || upstreamEntry is not null);
        return (response, entry, cacheable ? Hint(name, question.RecordType, verdict, answers, lookup.Records.Count, upstreamEntry) : null);
    }

    /// <summary>Which TTLs of the answer count down: the upstream records the answer cache ages, from their stored TTL.</summary>
    private static CacheHint Hint(string name, RecordType type, string verdict, List<DnsRecordBase> answers, int local, CachedAnswer? upstream)
    {
        var aging = new int[answers.Count];
        for (var i = local; upstream is not null && i < aging.Length; i++)
        {
            var stored = upstream.Records[i - local];
            aging[i] = AnswerCache.Ages(stored) ? stored.TimeToLive : 0;
        }

        return upstream is null
            ? new CacheHint(name, type, verdict, answers, aging, 0, CacheHint.Forever)
            : new CacheHint(name, type, verdict, answers, aging, upstream.Stored, upstream.Ttl);
    }

    /// <returns>The answer and the answer cache's entry it came from (null when the cache did not keep it); null on failure.</returns>
    private async ValueTask<(ReturnCode Code, List<DnsRecordBase> Records, CachedAnswer? Entry)?> Forward(SandboxDnsView view, DomainName name, RecordType type)
    {
        var upstreams = view.Upstreams(Volatile.Read(ref snapshot).DefaultUpstreams);
        if (upstreams.Count == 0)
        {
            Interlocked.Increment(ref upstreamFailures);
            return null;
        }

        var key = upstreams.Count == 1 ? upstreams[0].ToString() : string.Join(',', upstreams);
        var text = LocalResolver.Text(name);
        if (cache.Get(key, text, type) is { } cached)
        {
            return (cached.Entry.Code, cached.Records, cached.Entry);
        }

        var client = Client(upstreams);
        try
        {
            using var cts = new CancellationTokenSource(settings.UpstreamTimeout);
            var options = new DnsQueryOptions { IsRecursionDesired = true, IsEDnsEnabled = true };
            var answer = await client.ResolveAsync(name, type, RecordClass.INet, options, cts.Token);
            if (answer is null)
            {
                Interlocked.Increment(ref upstreamFailures);
                return null;
            }

            var stored = cache.Put(key, text, type, answer.ReturnCode, answer.AnswerRecords);
            return (answer.ReturnCode, [.. answer.AnswerRecords], stored);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
        {
            Interlocked.Increment(ref upstreamFailures);
            return null;
        }
    }

    /// <summary>One client per upstream set. ARSoft's client randomises query ids and source ports and matches
    /// answers to questions; the upstreams of one set share a port.</summary>
    private DnsClient Client(IReadOnlyList<IPEndPoint> upstreams)
    {
        var key = string.Join(',', upstreams);
        return clients.GetOrAdd(key, _ =>
        {
            var port = upstreams[0].Port;
            return new DnsClient(upstreams.Select(u => u.Address), [new UdpClientTransport(port), new TcpClientTransport(port)], false, (int)settings.UpstreamTimeout.TotalMilliseconds);
        });
    }

    private static DnsRecordBase ClampTtl(DnsRecordBase r, int max) => r switch
    {
        ARecord a when a.TimeToLive > max => new ARecord(a.Name, max, a.Address),
        AaaaRecord a when a.TimeToLive > max => new AaaaRecord(a.Name, max, a.Address),
        CNameRecord c when c.TimeToLive > max => new CNameRecord(c.Name, max, c.CanonicalName),
        _ => r,
    };

}
