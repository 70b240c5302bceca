using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Api;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Dns;

[Description("Ask the ArcBox resolver as a sandbox would (for debugging; opens nothing in the firewall)")]
public sealed class QueryCommand : AsyncCommand<QueryCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The name to resolve")]
        public string Name { get; init; } = "";

        [CommandOption("--type <TYPE>")]
        [Description("Record type: A (default), AAAA, CNAME, TXT, PTR, ANY")]
        [DefaultValue("A")]
        public string Type { get; init; } = "A";

        [CommandOption("--sandbox <SANDBOX>")]
        [Description("The sandbox whose view answers")]
        public string? Sandbox { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Sandbox is null)
        {
            throw CliException.Usage("--sandbox is required: every sandbox has its own view of DNS");
        }

        using var client = settings.Client();
        var result = await client.SendAsync(HttpMethod.Post, "v1/dns/query", new DnsQueryRequest(settings.Sandbox, settings.Name, settings.Type), cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
            return ExitCodes.Success;
        }

        Console.Out.WriteLine($"{result.GetProperty("name").GetString()} {result.GetProperty("type").GetString()} as {settings.Sandbox}: {result.GetProperty("rcode").GetString()} ({result.GetProperty("verdict").GetString()})");
        foreach (var answer in result.GetProperty("answers").EnumerateArray())
        {
            Console.Out.WriteLine("  " + answer.GetString());
        }

        foreach (var admit in result.GetProperty("wouldAdmit").EnumerateArray())
        {
            Console.Out.WriteLine("  would admit " + admit.GetString());
        }

        return ExitCodes.Success;
    }
}
