using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

[Description("Swap a live sandbox's policy atomically")]
public sealed class SetCommand : AsyncCommand<SetCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Sandbox name")]
        public string Name { get; init; } = "";

        [CommandArgument(1, "<FILE>")]
        [Description("Policy file, or a built-in: default, offline")]
        public string File { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var policy = PolicyUpload.From(settings.File, printWarnings: !settings.Json)!;
        using var client = settings.Client();
        var result = await client.SendAsync(HttpMethod.Put, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}/policy", policy, cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
        }
        else
        {
            Console.Out.WriteLine($"{settings.Name}: policy {result.GetProperty("policy").GetString()} applied");
        }

        return ExitCodes.Success;
    }
}
