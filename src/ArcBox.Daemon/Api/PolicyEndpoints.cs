using ArcBox.Daemon.Policies;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/sandboxes/NAME/policy (set and show) and /v1/sandboxes/NAME/explain.</summary>
public static class PolicyEndpoints
{
    public static void Map(RouteGroupBuilder api, SandboxLifecycle sandboxes, PolicyService policies, Func<Sandbox, SandboxView> view)
    {
        api.MapPut("/sandboxes/{name}/policy", async (string name, HttpRequest request, CancellationToken ct) =>
        {
            var body = await ApiBody.Read<PolicyInput>(request, ct);
            var changed = await sandboxes.SetPolicyAsync(name, body, ct);
            return Results.Json(view(changed), ApiJson.Options);
        });
        api.MapGet("/sandboxes/{name}/policy", (string name, string? format) =>
            Results.Text(policies.Show(name, format ?? "yaml"), "text/plain; charset=utf-8"));
        api.MapPost("/sandboxes/{name}/explain", async (string name, HttpRequest request, CancellationToken ct) =>
        {
            var flow = ToFlow(await ApiBody.Read<ExplainRequest>(request, ct));
            var (decision, peer) = policies.Explain(name, flow);
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
        });
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
}
