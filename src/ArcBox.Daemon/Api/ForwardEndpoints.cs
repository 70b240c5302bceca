using ArcBox.Daemon.Forwards;
using ArcBox.Daemon.Sandboxes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/forwards: list, add, remove.</summary>
public static class ForwardEndpoints
{
    public static void Map(RouteGroupBuilder api, ForwardService forwards)
    {
        api.MapGet("/forwards", () => Results.Json(forwards.Forwards().Select(ForwardView.From), ApiJson.Options));
        api.MapPost("/forwards", async (HttpRequest request, CancellationToken ct) =>
        {
            var body = await ApiBody.Read<ForwardRequest>(request, ct);
            var added = await forwards.AddForwardAsync(body, ct);
            return Results.Json(added.Select(ForwardView.From), ApiJson.Options, statusCode: StatusCodes.Status201Created);
        });
        api.MapDelete("/forwards", async (string? host, int? port, string? protocol, CancellationToken ct) =>
        {
            if (host is null || port is null)
            {
                throw new RequestException(ErrorCode.Invalid, "give ?host=ADDR&port=PORT (and &protocol=udp for a UDP forward)");
            }

            var removed = await forwards.RemoveForwardAsync(host, port.Value, protocol, ct);
            return Results.Json(removed.Select(ForwardView.From), ApiJson.Options);
        });
    }
}
