using System.ComponentModel;
using System.Globalization;
using ArcBox.Cli.Commands.Sandboxes;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Vm;

[Description("Stop a sandbox's VM: ACPI power-down, then QEMU quit after the grace period, then kill; the sandbox stays")]
public sealed class VmStopCommand : AsyncCommand<VmStopCommand.Settings>
{
    public sealed class Settings : NameSettings
    {
        [CommandOption("--grace <SECONDS>")]
        [Description("How long the guest may take to power off (default 10)")]
        public double? Grace { get; init; }

        [CommandOption("--force")]
        [Description("Quit QEMU at once (no power-down)")]
        public bool Force { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var result = await Stop(client, settings.Name, settings.Force ? 0 : settings.Grace ?? 10, cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
        }
        else
        {
            Console.Out.WriteLine(result.GetProperty("stopped").GetBoolean() ? $"stopped VM {settings.Name} ({result.GetProperty("how").GetString()})" : $"VM {settings.Name} was not running");
        }

        return ExitCodes.Success;
    }

    public static Task<System.Text.Json.JsonElement> Stop(ApiClient client, string name, double grace, CancellationToken ct) =>
        client.SendAsync(HttpMethod.Post, $"v1/sandboxes/{Uri.EscapeDataString(name)}/vm/stop?grace={grace.ToString(CultureInfo.InvariantCulture)}", ct: ct);
}
