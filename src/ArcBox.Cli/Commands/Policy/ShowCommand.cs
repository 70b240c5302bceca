using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

[Description("Show a live sandbox's policy as YAML, or compiled (nft, iptables)")]
public sealed class ShowCommand : AsyncCommand<ShowCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Sandbox name")]
        public string Name { get; init; } = "";

        [CommandOption("--format <FORMAT>")]
        [Description("yaml (default), nft or iptables")]
        [DefaultValue("yaml")]
        public string Format { get; init; } = "yaml";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Format is not ("yaml" or "nft" or "iptables"))
        {
            throw CliException.Usage($"--format: unknown format '{settings.Format}': expected yaml, nft or iptables");
        }

        using var client = settings.Client();
        var text = await client.GetTextAsync($"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}/policy?format={settings.Format}", cancellationToken);
        if (settings.Json)
        {
            Json.Write(new { name = settings.Name, format = settings.Format, text });
        }
        else
        {
            Console.Out.Write(text);
        }

        return ExitCodes.Success;
    }
}
