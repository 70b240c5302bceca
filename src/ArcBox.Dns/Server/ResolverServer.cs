using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
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
    private readonly DnsServer tcp;
    private readonly List<UdpFrontend> udp = [];
    private readonly ConcurrentDictionary<string, DnsClient> clients = new(StringComparer.Ordinal);
    private readonly RateLimiter limiter;
    private readonly AnswerCache cache = new(10_000);
    private ResolverSnapshot snapshot;
    private long malformed;
    private long rateLimited;
    private long upstreamFailures;

    /// <param name="admit">Puts admitted addresses into the sandbox's firewall sets; called before answering.</param>
    public ResolverServer(IEnumerable<IPEndPoint> endpoints, DnsSettings settings, ResolverSnapshot initial, Func<string, IReadOnlyList<Admission>, Task> admit)
    {
        this.settings = settings;
        this.admit = admit;
        snapshot = initial;
        limiter = new RateLimiter(settings.QueriesPerSecond);
        Log = new QueryLog(settings.LogSize);
        var list = endpoints.ToList();
        foreach (var endpoint in list)
        {
            udp.Add(new UdpFrontend(endpoint, Accept, HandleAsync, () => Interlocked.Increment(ref malformed)));
        }

        // TCP (large answers, truncated UDP retries) is rare: ARSoft.Tools.Net's server handles it.
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

    /// <summary>Packets that could not be parsed or answered (dropped, counted).</summary>
    public long Malformed => Interlocked.Read(ref malformed);

    public long RateLimited => Interlocked.Read(ref rateLimited);

    public long UpstreamFailures => Interlocked.Read(ref upstreamFailures);

    public void Start()
    {
        tcp.Start();
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
        tcp.Stop();
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
        return await Answer(s, view, query, admitAddresses);
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

        var (response, entry) = await Answer(s, view, query, admitAddresses: true);
        Log.Add(entry);
        return response;
    }

    private async ValueTask<(DnsMessage Response, QueryLogEntry Entry)> Answer(ResolverSnapshot s, SandboxDnsView view, DnsMessage query, bool admitAddresses)
    {
        var started = Stopwatch.GetTimestamp();
        var question = query.Questions[0];
        var response = query.CreateResponseInstance();
        response.IsRecursionAllowed = true;
        var lookup = LocalResolver.Lookup(s, view, question.Name, question.RecordType);
        string verdict;
        List<DnsRecordBase> answers = [.. lookup.Records];
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
        var entry = new QueryLogEntry(DateTimeOffset.UtcNow, view.Name, LocalResolver.Text(question.Name), question.RecordType, verdict, answers, admissions, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return (response, entry);
    }

    private async ValueTask<(ReturnCode Code, List<DnsRecordBase> Records)?> Forward(SandboxDnsView view, DomainName name, RecordType type)
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
            return cached;
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

            cache.Put(key, text, type, answer.ReturnCode, answer.AnswerRecords);
            return (answer.ReturnCode, [.. answer.AnswerRecords]);
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
