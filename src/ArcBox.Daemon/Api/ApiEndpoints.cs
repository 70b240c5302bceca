using System.Net.Sockets;
using System.Text.Json;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.Vms;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>The local HTTP/JSON API. Every failure is {"error": {...}} with a status that says whose fault it is.</summary>
public static class ApiEndpoints
{
    public const int MaxBodyBytes = 2 << 20;

    public static void Map(IEndpointRouteBuilder app, SandboxManager manager)
    {
        var api = app.MapGroup("/v1");
        api.MapGet("/health", () => Results.Json(new { status = "ok", sandboxes = manager.List().Count, network = manager.Network.Subnet4.ToString(), prefix = manager.Network.Prefix }, ApiJson.Options));
        api.MapGet("/sandboxes", () => Results.Json(manager.List().Select(r => SandboxView.From(r, manager)), ApiJson.Options));
        api.MapGet("/sandboxes/{name}", (string name) => Handle(() => Results.Json(SandboxView.From(manager.Get(name), manager), ApiJson.Options)));
        api.MapPost("/sandboxes", async (HttpRequest request, CancellationToken ct) => await HandleAsync(async () =>
        {
            var body = await Body<CreateRequest>(request, ct);
            var record = await manager.CreateAsync(body, ct);
            return Results.Json(SandboxView.From(record, manager), ApiJson.Options, statusCode: StatusCodes.Status201Created);
        }));
        api.MapDelete("/sandboxes/{name}", async (string name, CancellationToken ct) => await HandleAsync(async () =>
        {
            var problems = await manager.RemoveAsync(name, ct);
            return Results.Json(new { name, removed = true, problems }, ApiJson.Options);
        }));
        api.MapPut("/sandboxes/{name}/policy", async (string name, HttpRequest request, CancellationToken ct) => await HandleAsync(async () =>
        {
            var body = await Body<PolicyInput>(request, ct);
            var record = await manager.SetPolicyAsync(name, body, ct);
            return Results.Json(SandboxView.From(record, manager), ApiJson.Options);
        }));
        api.MapGet("/sandboxes/{name}/policy", (string name, string? format) =>
            Handle(() => Results.Text(manager.ShowPolicy(name, format ?? "yaml"), "text/plain; charset=utf-8")));
        MapDns(api, manager);
        MapVms(api, manager);
        api.MapGet("/logs", (string? cursor, bool? denied, int? limit) => Handle(() => Results.Json(manager.Logs(null, Cursor(cursor), denied ?? false, Limit(limit)), ApiJson.Options)));
        api.MapGet("/sandboxes/{name}/logs", (string name, string? cursor, bool? denied, int? limit) => Handle(() => Results.Json(manager.Logs(name, Cursor(cursor), denied ?? false, Limit(limit)), ApiJson.Options)));
        api.MapGet("/events", (HttpContext context, string? sandbox, bool? denied, string? cursor) => StreamEvents(context, manager, sandbox, denied, cursor));
        app.MapGet("/metrics", () => Results.Text(MetricsText.Render(manager.Stats(), manager.FlowLog?.Received ?? 0, manager.FlowLog?.Lost ?? 0), MetricsText.ContentType));
        api.MapGet("/stats", (bool? rules) => Results.Json(rules == true ? manager.Stats() : manager.Stats().Select(s => s with { Rules = [] }), ApiJson.Options));
        api.MapGet("/sandboxes/{name}/stats", (string name) => Handle(() => Results.Json(manager.Stats(name)[0], ApiJson.Options)));
        MapForwards(api, manager);
        api.MapPost("/sandboxes/{name}/explain", async (string name, HttpRequest request, CancellationToken ct) => await HandleAsync(async () =>
        {
            var body = await Body<ExplainRequest>(request, ct);
            var flow = ToFlow(body);
            var decision = manager.Explain(name, flow);
            var peer = manager.View().Classify(flow.Peer);
            return Results.Json(
                new
                {
                    sandbox = name,
                    direction = flow.Direction == Direction.Outbound ? "outbound" : "inbound",
                    protocol = flow.Protocol.ToString().ToLowerInvariant(),
                    peer = flow.Peer.ToString(),
                    peerKind = peer.Kind == AddressKind.Sandbox ? $"sandbox:{peer.Sandbox}" : peer.Kind.ToString().ToLowerInvariant(),
                    port = flow.Protocol == Protocol.Icmp ? (int?)null : flow.Port,
                    domain = flow.Domain,
                    verdict = decision.Verdict,
                    rule = decision.Rule,
                },
                ApiJson.Options);
        }));
    }

    private static void MapForwards(RouteGroupBuilder api, SandboxManager manager)
    {
        api.MapGet("/forwards", () => Results.Json(manager.Forwards().Select(ForwardView.From), ApiJson.Options));
        api.MapPost("/forwards", async (HttpRequest request, CancellationToken ct) => await HandleAsync(async () =>
        {
            var body = await Body<ForwardRequest>(request, ct);
            var added = await manager.AddForwardAsync(body, ct);
            return Results.Json(added.Select(ForwardView.From), ApiJson.Options, statusCode: StatusCodes.Status201Created);
        }));
        api.MapDelete("/forwards", async (string? host, int? port, string? protocol, CancellationToken ct) => await HandleAsync(async () =>
        {
            if (host is null || port is null)
            {
                throw new RequestException(ErrorCode.Invalid, "give ?host=ADDR&port=PORT (and &protocol=udp for a UDP forward)");
            }

            var removed = await manager.RemoveForwardAsync(host, port.Value, protocol, ct);
            return Results.Json(removed.Select(ForwardView.From), ApiJson.Options);
        }));
    }

    /// <summary>
    /// GET /v1/events[?sandbox=NAME][&amp;denied=true][&amp;cursor=FLOW:DNS]: the log as a stream, one JSON object per
    /// line (application/x-ndjson), entries after the cursor (default: from now on) as they come, until the client
    /// goes away.
    /// </summary>
    private static async Task StreamEvents(HttpContext context, SandboxManager manager, string? sandbox, bool? denied, string? after)
    {
        LogCursor cursor;
        try
        {
            cursor = Cursor(after) ?? manager.LogCursorNow;
            manager.Logs(sandbox, cursor, denied ?? false, 1);
        }
        catch (RequestException ex)
        {
            await Error(ex).ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "application/x-ndjson";
        var ct = context.RequestAborted;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var entries = manager.Logs(sandbox, cursor, denied ?? false, 100_000);
                foreach (var entry in entries)
                {
                    await context.Response.WriteAsync(JsonSerializer.Serialize(entry, ApiJson.Options) + "\n", ct);
                }

                cursor = cursor.After(entries);

                await context.Response.Body.FlushAsync(ct);
                await Task.Delay(250, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // The client left.
        }
        catch (RequestException)
        {
            // The sandbox was removed while followed: the stream ends.
        }
    }

    private static LogCursor? Cursor(string? cursor) =>
        cursor is null ? null
        : LogCursor.TryParse(cursor, out var c) ? c
        : throw new RequestException(ErrorCode.Invalid, $"cursor: '{cursor}' is not FLOW:DNS (two sequence numbers, as in the entries)");

    private static int Limit(int? limit) =>
        limit is null ? 1000 : limit is >= 1 and <= 100_000 ? limit.Value : throw new RequestException(ErrorCode.Invalid, $"limit: {limit} is outside 1-100000");

    private static void MapVms(RouteGroupBuilder api, SandboxManager manager)
    {
        api.MapGet("/vms", () => Results.Json(manager.Vms(), ApiJson.Options));
        api.MapGet("/sandboxes/{name}/vm", (string name) => Handle(() =>
            Results.Json(manager.VmOf(name) ?? throw new RequestException(ErrorCode.NotFound, $"sandbox '{name}' has never run a VM"), ApiJson.Options)));
        api.MapPost("/sandboxes/{name}/vm", async (string name, HttpRequest request, CancellationToken ct) => await HandleAsync(async () =>
        {
            var body = await Body<VmRequest>(request, ct);
            var status = await manager.StartVmAsync(name, body, ct);
            return Results.Json(status, ApiJson.Options, statusCode: StatusCodes.Status201Created);
        }));
        api.MapGet("/sandboxes/{name}/vm/console", (string name, long? offset, HttpResponse response) => Handle(() =>
        {
            var vm = manager.VmOf(name) ?? throw new RequestException(ErrorCode.NotFound, $"sandbox '{name}' has never run a VM");
            var (bytes, next) = VmConsole.Read(vm.Console, offset ?? 0);

            // The state is read before the bytes: "stopped" with no bytes means the whole console was seen.
            response.Headers["X-Vm-State"] = vm.State;
            response.Headers["X-Console-Offset"] = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["X-Console-Length"] = VmConsole.Length(vm.Console).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Bytes(bytes, "application/octet-stream");
        }));
        api.MapPost("/sandboxes/{name}/vm/stop", async (string name, double? grace, CancellationToken ct) => await HandleAsync(async () =>
        {
            if (grace is < 0 or > 600)
            {
                throw new RequestException(ErrorCode.Invalid, $"grace: {grace} s is outside 0-600");
            }

            var how = await manager.StopVmAsync(name, TimeSpan.FromSeconds(grace ?? 10), ct);
            return Results.Json(new { sandbox = name, stopped = how is not null, how = how ?? "not running" }, ApiJson.Options);
        }));
    }

    private static void MapDns(RouteGroupBuilder api, SandboxManager manager)
    {
        api.MapGet("/sandboxes/{name}/dns-log", (string name) => Handle(() =>
        {
            manager.Get(name);
            return Results.Json(manager.Resolver.Log.For(name), ApiJson.Options);
        }));
        api.MapGet("/dns/stats", () => Results.Json(new { malformed = manager.Resolver.Malformed, rateLimited = manager.Resolver.RateLimited, upstreamFailures = manager.Resolver.UpstreamFailures }, ApiJson.Options));
        api.MapPost("/dns/query", async (HttpRequest request, CancellationToken ct) => await HandleAsync(async () =>
        {
            var body = await Body<DnsQueryRequest>(request, ct);
            manager.Get(body.Sandbox ?? "");
            if (body.Name is null)
            {
                throw new RequestException(ErrorCode.Invalid, "name: missing");
            }

            if (!DomainNames.TryValidateName(body.Name, out var nameError))
            {
                throw new RequestException(ErrorCode.Invalid, $"name: {nameError}");
            }

            if (!Enum.TryParse<ARSoft.Tools.Net.Dns.RecordType>(body.Type ?? "A", ignoreCase: true, out var type) || type is ARSoft.Tools.Net.Dns.RecordType.Invalid)
            {
                throw new RequestException(ErrorCode.Invalid, $"type: unknown record type '{body.Type}' (A, AAAA, CNAME, TXT, PTR, ANY, ...)");
            }

            var (response, entry) = await manager.Resolver.QueryAsAsync(body.Sandbox!, ARSoft.Tools.Net.DomainName.Parse(body.Name), type, admitAddresses: false);
            return Results.Json(new { entry.Sandbox, entry.Name, entry.Type, rcode = response.ReturnCode.ToString().ToUpperInvariant(), entry.Verdict, entry.Answers, wouldAdmit = entry.Admitted, entry.Milliseconds }, ApiJson.Options);
        }));
    }

    private static Flow ToFlow(ExplainRequest r)
    {
        var direction = r.Direction switch
        {
            "outbound" => Direction.Outbound,
            "inbound" => Direction.Inbound,
            _ => throw new RequestException(ErrorCode.Invalid, $"direction must be outbound or inbound, not '{r.Direction}'"),
        };
        var protocol = r.Protocol switch
        {
            "tcp" => Protocol.Tcp,
            "udp" => Protocol.Udp,
            "icmp" => Protocol.Icmp,
            _ => throw new RequestException(ErrorCode.Invalid, $"protocol must be tcp, udp or icmp, not '{r.Protocol}'"),
        };
        if (r.Peer is null)
        {
            throw new RequestException(ErrorCode.Invalid, "peer: missing");
        }

        if (!Addresses.TryParseAddress(r.Peer, out var peer, out var error))
        {
            throw new RequestException(ErrorCode.Invalid, $"peer: {error}");
        }

        if (protocol != Protocol.Icmp && r.Port is not (>= 1 and <= 65535))
        {
            throw new RequestException(ErrorCode.Invalid, $"port must be 1-65535 for {r.Protocol}");
        }

        return new Flow(direction, protocol, peer, r.Port ?? 0, r.Domain is null ? null : DomainPattern.Normalize(r.Domain));
    }

    private static async Task<T> Body<T>(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new RequestException(ErrorCode.Invalid, $"request body over {MaxBodyBytes} bytes");
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, ApiJson.Options, ct)
                ?? throw new RequestException(ErrorCode.Invalid, "empty request body; expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new RequestException(ErrorCode.Invalid, $"malformed JSON{(ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "")}: {ex.Message.Split(". Path:")[0]}");
        }
    }

    private static IResult Handle(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (RequestException ex)
        {
            return Error(ex);
        }
    }

    private static async Task<IResult> HandleAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (RequestException ex)
        {
            return Error(ex);
        }
        catch (SocketException ex)
        {
            return Error(new RequestException(ErrorCode.Failure, ex.Message));
        }
    }

    private static IResult Error(RequestException ex)
    {
        var (status, code) = ex.Code switch
        {
            ErrorCode.Invalid => (StatusCodes.Status400BadRequest, "invalid"),
            ErrorCode.NotFound => (StatusCodes.Status404NotFound, "not_found"),
            ErrorCode.Conflict => (StatusCodes.Status409Conflict, "conflict"),
            _ => (StatusCodes.Status500InternalServerError, "failure"),
        };
        return Results.Json(new ErrorBody(new ErrorDetail(code, ex.Message, ex.Details)), ApiJson.Options, statusCode: status);
    }
}
