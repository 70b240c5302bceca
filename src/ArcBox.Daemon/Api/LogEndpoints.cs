using System.Text.Json;
using ArcBox.Daemon.Logging;
using ArcBox.Daemon.Sandboxes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/logs, /v1/sandboxes/NAME/logs and the /v1/events stream.</summary>
public static class LogEndpoints
{
    public static void Map(RouteGroupBuilder api, LogService logs)
    {
        api.MapGet("/logs", (string? cursor, bool? denied, int? limit) => Results.Json(logs.Logs(null, Cursor(cursor), denied ?? false, Limit(limit)), ApiJson.Options));
        api.MapGet("/sandboxes/{name}/logs", (string name, string? cursor, bool? denied, int? limit) => Results.Json(logs.Logs(name, Cursor(cursor), denied ?? false, Limit(limit)), ApiJson.Options));
        api.MapGet("/events", (HttpContext context, string? sandbox, bool? denied, string? cursor) => StreamEvents(context, logs, sandbox, denied, cursor));
    }

    /// <summary>
    /// GET /v1/events[?sandbox=NAME][&amp;denied=true][&amp;cursor=FLOW:DNS]: the log as a stream, one JSON object per
    /// line (application/x-ndjson), entries after the cursor (default: from now on) as they come, until the client
    /// goes away.
    /// </summary>
    private static async Task StreamEvents(HttpContext context, LogService logs, string? sandbox, bool? denied, string? after)
    {
        // Checked before the stream starts, so that a bad cursor or an unknown sandbox is an error body.
        var cursor = Cursor(after) ?? logs.CursorNow;
        logs.Logs(sandbox, cursor, denied ?? false, 1);

        context.Response.ContentType = "application/x-ndjson";
        var ct = context.RequestAborted;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var entries = logs.Logs(sandbox, cursor, denied ?? false, 100_000);
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
}
