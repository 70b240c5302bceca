using ArcBox.Daemon.Dns;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Policy.Parsing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/sandboxes/NAME/dns-log, /v1/dns/stats and /v1/dns/query (a query as a sandbox would ask it).</summary>
public static class DnsEndpoints
{
    public static void Map(RouteGroupBuilder api, DnsService dns, Func<SandboxTable> table)
    {
        api.MapGet("/sandboxes/{name}/dns-log", (string name) =>
        {
            table().Get(name);
            return Results.Json(dns.Resolver.Log.For(name), ApiJson.Options);
        });
        api.MapGet("/dns/stats", () => Results.Json(new { malformed = dns.Resolver.Malformed, rateLimited = dns.Resolver.RateLimited, upstreamFailures = dns.Resolver.UpstreamFailures }, ApiJson.Options));
        api.MapPost("/dns/query", async (HttpRequest request, CancellationToken ct) =>
        {
            var body = await ApiBody.Read<DnsQueryRequest>(request, ct);
            table().Get(body.Sandbox ?? "");
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

            var (response, entry) = await dns.Resolver.QueryAsAsync(body.Sandbox!, ARSoft.Tools.Net.DomainName.Parse(body.Name), type, admitAddresses: false);
            return Results.Json(new { entry.Sandbox, entry.Name, entry.Type, rcode = response.ReturnCode.ToString().ToUpperInvariant(), entry.Verdict, entry.Answers, wouldAdmit = entry.Admitted, entry.Milliseconds }, ApiJson.Options);
        });
    }
}
