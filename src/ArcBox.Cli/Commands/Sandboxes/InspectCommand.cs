using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Show everything about one sandbox, as JSON")]
public sealed class InspectCommand : AsyncCommand<NameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NameSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        Json.Write(await client.SendAsync(HttpMethod.Get, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}", ct: cancellationToken));
        return ExitCodes.Success;
    }
}
