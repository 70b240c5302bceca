using System.ComponentModel;
using ArcBox.Cli.Commands.Sandboxes;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Vm;

[Description("Stop a sandbox's VM at once and remove the sandbox (its TAP, rules and state)")]
public sealed class VmRemoveCommand : AsyncCommand<NameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NameSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var stopped = await VmStopCommand.Stop(client, settings.Name, 0, cancellationToken);
        var removed = await client.SendAsync(HttpMethod.Delete, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(new { sandbox = settings.Name, vm = stopped, removed });
            return ExitCodes.Success;
        }

        Console.Out.WriteLine($"removed {settings.Name}{(stopped.GetProperty("stopped").GetBoolean() ? " (VM stopped)" : "")}");
        foreach (var problem in removed.GetProperty("problems").EnumerateArray())
        {
            Console.Error.WriteLine($"warning: {problem.GetString()}");
        }

        return ExitCodes.Success;
    }
}
