using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Forward;

[Description("Remove a port forward: arcbox forward rm HOSTADDR:PORT [[--udp]]")]
public sealed class ForwardRemoveCommand : AsyncCommand<ForwardRemoveCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<HOSTADDR:PORT>")]
        public string Host { get; init; } = "";

        [CommandOption("--udp")]
        public bool Udp { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (host, port) = ForwardSpec.Host(settings.Host);
        using var client = settings.Client();
        var result = await client.SendAsync(HttpMethod.Delete, $"v1/forwards?host={Uri.EscapeDataString(host)}&port={port}&protocol={(settings.Udp ? "udp" : "tcp")}", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
        }
        else
        {
            foreach (var f in result.EnumerateArray())
            {
                Console.Out.WriteLine($"removed forward {f.GetProperty("spec").GetString()}");
            }
        }

        return ExitCodes.Success;
    }
}
