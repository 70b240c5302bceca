using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.Vms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>/v1/vms and /v1/sandboxes/NAME/vm: start, status, console, stop.</summary>
public static class VmEndpoints
{
    public static void Map(RouteGroupBuilder api, VmService vms)
    {
        api.MapGet("/vms", () => Results.Json(vms.All(), ApiJson.Options));
        api.MapGet("/sandboxes/{name}/vm", (string name) => Results.Json(Existing(vms, name), ApiJson.Options));
        api.MapPost("/sandboxes/{name}/vm", async (string name, HttpRequest request, CancellationToken ct) =>
        {
            var body = await ApiBody.Read<VmRequest>(request, ct);
            var status = await vms.StartAsync(name, body, ct);
            return Results.Json(status, ApiJson.Options, statusCode: StatusCodes.Status201Created);
        });
        api.MapGet("/sandboxes/{name}/vm/console", (string name, long? offset, HttpResponse response) =>
        {
            var vm = Existing(vms, name);
            var (bytes, next) = VmConsole.Read(vm.Console, offset ?? 0);

            // The state is read before the bytes: "stopped" with no bytes means the whole console was seen.
            response.Headers["X-Vm-State"] = vm.State;
            response.Headers["X-Console-Offset"] = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["X-Console-Length"] = VmConsole.Length(vm.Console).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Bytes(bytes, "application/octet-stream");
        });
        api.MapPost("/sandboxes/{name}/vm/stop", async (string name, double? grace, CancellationToken ct) =>
        {
            // NaN compares false with everything: it would pass a range check written the other way round.
            if (grace is { } g && !(g >= 0 && g <= 600))
            {
                throw new RequestException(ErrorCode.Invalid, $"grace: {grace} s is outside 0-600");
            }

            var how = await vms.StopAsync(name, TimeSpan.FromSeconds(grace ?? 10), ct);
            return Results.Json(new { sandbox = name, stopped = how is not null, how = how ?? "not running" }, ApiJson.Options);
        });
    }

    private static VmStatus Existing(VmService vms, string name) =>
        vms.Of(name) ?? throw new RequestException(ErrorCode.NotFound, $"sandbox '{name}' has never run a VM");
}
