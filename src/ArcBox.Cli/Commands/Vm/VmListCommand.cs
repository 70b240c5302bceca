using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Vm;

[Description("List the VMs of tap sandboxes")]
public sealed class VmListCommand : AsyncCommand<ClientSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClientSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var list = await client.SendAsync(HttpMethod.Get, "v1/vms", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(list);
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "SANDBOX", "STATE", "PID", "ACCEL", "MEMORY", "CPUS", "STARTED" })
        {
            table.AddColumn(column);
        }

        foreach (var vm in list.EnumerateArray())
        {
            var spec = vm.GetProperty("spec");
            table.AddRow(
                Markup.Escape(vm.GetProperty("sandbox").GetString()!),
                vm.GetProperty("state").GetString()!,
                vm.TryGetProperty("pid", out var pid) ? pid.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : "-",
                spec.GetProperty("accel").GetString()!,
                $"{spec.GetProperty("memoryMb").GetInt32()} MB",
                spec.GetProperty("cpus").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
                spec.GetProperty("startedAt").GetDateTimeOffset().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
