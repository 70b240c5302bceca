using ArcBox.Daemon.Logging;
using ArcBox.Daemon.Stats;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/stats, /v1/sandboxes/NAME/stats and /metrics (Prometheus).</summary>
public static class StatsEndpoints
{
    public static void Map(IEndpointRouteBuilder app, RouteGroupBuilder api, StatsService stats, LogService logs)
    {
        app.MapGet("/metrics", () => Results.Text(MetricsText.Render(stats.Stats(), logs.FlowsReceived, logs.FlowsLost), MetricsText.ContentType));
        api.MapGet("/stats", (bool? rules) => Results.Json(rules == true ? stats.Stats() : stats.Stats().Select(s => s with { Rules = [] }), ApiJson.Options));
        api.MapGet("/sandboxes/{name}/stats", (string name) => Results.Json(stats.Stats(name)[0], ApiJson.Options));
    }
}
