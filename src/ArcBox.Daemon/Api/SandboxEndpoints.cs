using ArcBox.Daemon.Sandboxes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/sandboxes: list, inspect, create, remove; /v1/health.</summary>
public static class SandboxEndpoints
{
    public static void Map(RouteGroupBuilder api, SandboxLifecycle sandboxes, Func<Sandbox, SandboxView> view)
    {
        var network = sandboxes.Network;
        api.MapGet("/health", () => Results.Json(new { status = "ok", sandboxes = sandboxes.Table.Count, network = network.Subnet4.ToString(), prefix = network.Prefix }, ApiJson.Options));
        api.MapGet("/sandboxes", () => Results.Json(sandboxes.Table.All().Select(view), ApiJson.Options));
        api.MapGet("/sandboxes/{name}", (string name) => Results.Json(view(sandboxes.Table.Get(name)), ApiJson.Options));
        api.MapPost("/sandboxes", async (HttpRequest request, CancellationToken ct) =>
        {
            var body = await ApiBody.Read<CreateRequest>(request, ct);
            var created = await sandboxes.CreateAsync(body, ct);
            return Results.Json(view(created), ApiJson.Options, statusCode: StatusCodes.Status201Created);
        });
        api.MapDelete("/sandboxes/{name}", async (string name, CancellationToken ct) =>
        {
            var problems = await sandboxes.RemoveAsync(name, ct);
            return Results.Json(new { name, removed = true, problems }, ApiJson.Options);
        });
    }
}
