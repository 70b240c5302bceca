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
    private readonly DnsServer server;
    private readonly ConcurrentDictionary<string, DnsClient> clients = new(StringComparer.Ordinal);
    private readonly RateLimiter limiter;
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
        var transports = endpoints.SelectMany(e => new IServerTransport[] { new UdpServerTransport(e, 1000), new TcpServerTransport(e, 5000, 120) }).ToArray();
        server = new DnsServer(transports);
        server.ClientConnected += OnClientConnected;
        server.QueryReceived += OnQueryReceived;
        server.ExceptionThrown += (_, _) =>
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

    public void Start() => server.Start();

    /// <summary>Takes effect for the next query.</summary>
    public void Update(ResolverSnapshot next) => Volatile.Write(ref snapshot, next);

    public void Dispose() => server.Stop();

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
        if (!Volatile.Read(ref snapshot).ByAddress.TryGetValue(source, out var view))
        {
            e.RefuseConnect = true;
        }
        else if (!limiter.Allow(view.Name))
        {
            Interlocked.Increment(ref rateLimited);
            e.RefuseConnect = true;
        }

        return Task.CompletedTask;
    }

    private async Task OnQueryReceived(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1 || !query.IsQuery)
        {
            Interlocked.Increment(ref malformed);
            return;
        }

        var s = Volatile.Read(ref snapshot);
        var source = e.RemoteEndpoint.Address.IsIPv4MappedToIPv6 ? e.RemoteEndpoint.Address.MapToIPv4() : e.RemoteEndpoint.Address;
        if (!s.ByAddress.TryGetValue(source, out var view))
        {
            // Only sandboxes get answers; anything else reaching the gateway is refused.
            var refused = query.CreateResponseInstance();
            refused.ReturnCode = ReturnCode.Refused;
            e.Response = refused;
            return;
        }

        var (response, entry) = await Answer(s, view, query, admitAddresses: true);
        Log.Add(entry);
        e.Response = response;
    }

    private async Task<(DnsMessage Response, QueryLogEntry Entry)> Answer(ResolverSnapshot s, SandboxDnsView view, DnsMessage query, bool admitAddresses)
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
                if (upstream is null)
                {
                    response.ReturnCode = ReturnCode.ServerFailure;
                    verdict = "servfail";
                    break;
                }

                response.ReturnCode = upstream.ReturnCode;
                answers.AddRange(upstream.AnswerRecords);
                verdict = "forwarded";
                break;
            default:
                response.ReturnCode = ReturnCode.NoError;
                verdict = "local";
                break;
        }

        // Clients must not cache an address longer than the firewall admits it.
        answers = [.. answers.Select(r => ClampTtl(r, settings.MaxTtl))];
        var admissions = DomainAdmission.For(view.Policy, question.Name, answers, settings.MinTtl, settings.MaxTtl);
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
        var entry = new QueryLogEntry(
            DateTimeOffset.UtcNow,
            view.Name,
            LocalResolver.Text(question.Name),
            question.RecordType.ToString().ToUpperInvariant(),
            verdict,
            [.. answers.Select(Describe)],
            [.. admissions.Select(a => $"{a.Address} ({a.Rule.Id}, {a.TtlSeconds}s)")],
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return (response, entry);
    }

    private async Task<DnsMessage?> Forward(SandboxDnsView view, DomainName name, RecordType type)
    {
        var upstreams = view.Upstreams(Volatile.Read(ref snapshot).DefaultUpstreams);
        if (upstreams.Count == 0)
        {
            Interlocked.Increment(ref upstreamFailures);
            return null;
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
            }

            return answer;
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

    private static string Describe(DnsRecordBase r) => r switch
    {
        ARecord a => $"A {a.Address}",
        AaaaRecord a => $"AAAA {a.Address}",
        CNameRecord c => $"CNAME {LocalResolver.Text(c.CanonicalName)}",
        TxtRecord t => $"TXT \"{t.TextData}\"",
        PtrRecord p => $"PTR {LocalResolver.Text(p.PointerDomainName)}",
        _ => r.RecordType.ToString().ToUpperInvariant(),
    };
}
