using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Forward;

[Description("Expose one port of a sandbox on the host: arcbox forward localhost:8080 web:3000 (or 'localhost:8080 => web:3000', quoted: an unquoted => is a shell redirection)")]
public sealed class ForwardCommand : AsyncCommand<ForwardCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<SPEC>")]
        [Description("HOSTADDR:PORT SANDBOX:PORT; HOSTADDR is localhost (the host only), 0.0.0.0 or [[::]] (every address) or one host address")]
        public string[] Spec { get; init; } = [];

        [CommandOption("--udp")]
        [Description("Forward UDP instead of TCP")]
        public bool Udp { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var request = ForwardSpec.Parse(settings.Spec, settings.Udp);
        using var client = settings.Client();
        var result = await client.SendAsync(HttpMethod.Post, "v1/forwards", request, cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
        }
        else
        {
            foreach (var f in result.EnumerateArray())
            {
                Console.Out.WriteLine($"forwarding {f.GetProperty("spec").GetString()}");
            }
        }

        return ExitCodes.Success;
    }
}
