using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Show a sandbox's recent DNS queries (--dns) with their verdicts")]
public sealed class LogsCommand : AsyncCommand<LogsCommand.Settings>
{
    public sealed class Settings : NameSettings
    {
        [CommandOption("--dns")]
        [Description("DNS queries: name, type, verdict, answers and the addresses admitted for domains rules")]
        public bool Dns { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!settings.Dns)
        {
            throw CliException.Usage("give --dns (flow logs are not available yet)");
        }

        using var client = settings.Client();
        var log = await client.SendAsync(HttpMethod.Get, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}/dns-log", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(log);
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "TIME", "NAME", "TYPE", "VERDICT", "ANSWERS", "ADMITTED" })
        {
            table.AddColumn(column);
        }

        foreach (var e in log.EnumerateArray())
        {
            table.AddRow(
                e.GetProperty("time").GetDateTimeOffset().ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(e.GetProperty("name").GetString()!),
                e.GetProperty("type").GetString()!,
                e.GetProperty("verdict").GetString()!,
                Markup.Escape(string.Join(", ", e.GetProperty("answers").EnumerateArray().Select(a => a.GetString()))),
                Markup.Escape(string.Join(", ", e.GetProperty("admitted").EnumerateArray().Select(a => a.GetString()))));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
