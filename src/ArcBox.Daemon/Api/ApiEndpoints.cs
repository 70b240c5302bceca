using ArcBox.Daemon.Hosting;
using ArcBox.Daemon.Sandboxes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace ArcBox.Daemon.Api;

/// <summary>The local HTTP/JSON API, one group of endpoints per feature, each given its own service. Every failure
/// is {"error": {...}} (<see cref="ApiErrors"/>).</summary>
public static class ApiEndpoints
{
    public const int MaxBodyBytes = ApiBody.MaxBytes;

    public static void Map(IEndpointRouteBuilder app, DaemonServices services)
    {
        var api = app.MapGroup("/v1");
        var sandboxes = services.Sandboxes;
        SandboxView View(Sandbox s) => SandboxView.From(s.Record, sandboxes.Network, s.Record.IsTap ? services.Dhcp.LeaseOf(s.Record) : null, services.Vms.Of(s.Record));

        SandboxEndpoints.Map(api, sandboxes, View);
        PolicyEndpoints.Map(api, sandboxes, services.Policies, View);
        ForwardEndpoints.Map(api, services.Forwards);
        LogEndpoints.Map(api, services.Logs);
        StatsEndpoints.Map(app, api, services.Stats, services.Logs);
        VmEndpoints.Map(api, services.Vms);
        DnsEndpoints.Map(api, services.Dns, () => sandboxes.Table);
    }
}
