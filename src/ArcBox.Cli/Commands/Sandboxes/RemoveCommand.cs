using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Remove a sandbox: its links, namespace, rules and state")]
public sealed class RemoveCommand : AsyncCommand<NameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NameSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var result = await client.SendAsync(HttpMethod.Delete, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
            return ExitCodes.Success;
        }

        Console.Out.WriteLine($"removed {settings.Name}");
        foreach (var problem in result.GetProperty("problems").EnumerateArray())
        {
            Console.Error.WriteLine($"warning: {problem.GetString()}");
        }

        return ExitCodes.Success;
    }
}
