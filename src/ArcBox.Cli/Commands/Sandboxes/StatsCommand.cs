using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ArcBox.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Packets and bytes each sandbox's rules allowed and dropped, in and out, read from the kernel's counters")]
public sealed class StatsCommand : AsyncCommand<StatsCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "[NAME]")]
        [Description("One sandbox, with every rule's counters (default: all sandboxes, totals only)")]
        public string? Name { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var stats = settings.Name is null
            ? await client.SendAsync(HttpMethod.Get, "v1/stats", ct: cancellationToken)
            : await client.SendAsync(HttpMethod.Get, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}/stats", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(stats);
            return ExitCodes.Success;
        }

        var totals = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "SANDBOX", "SENT", "RECEIVED", "OUT ALLOWED", "OUT DROPPED", "IN ALLOWED", "IN DROPPED" })
        {
            totals.AddColumn(new TableColumn(column) { Alignment = column == "SANDBOX" ? Justify.Left : Justify.Right });
        }

        var list = settings.Name is null ? [.. stats.EnumerateArray()] : new List<JsonElement> { stats };
        foreach (var s in list)
        {
            totals.AddRow(Markup.Escape(s.GetProperty("name").GetString()!), Totals(s, "sent"), Totals(s, "received"), Totals(s, "outAllowed"), Totals(s, "outDropped"), Totals(s, "inAllowed"), Totals(s, "inDropped"));
        }

        AnsiConsole.Write(totals);
        if (settings.Name is not null)
        {
            var rules = new Table().Border(TableBorder.Simple);
            foreach (var column in new[] { "DIRECTION", "RULE", "VERDICT", "PACKETS", "BYTES" })
            {
                rules.AddColumn(new TableColumn(column) { Alignment = column is "PACKETS" or "BYTES" ? Justify.Right : Justify.Left });
            }

            foreach (var r in stats.GetProperty("rules").EnumerateArray())
            {
                rules.AddRow(
                    r.GetProperty("direction").GetString()!,
                    Markup.Escape(r.GetProperty("ruleId").GetString()!),
                    r.GetProperty("verdict").GetString()!,
                    r.GetProperty("packets").GetInt64().ToString("N0", CultureInfo.InvariantCulture),
                    Bytes(r.GetProperty("bytes").GetInt64()));
            }

            AnsiConsole.Write(rules);
        }

        return ExitCodes.Success;
    }

    private static string Totals(JsonElement s, string which)
    {
        var t = s.GetProperty(which);
        return $"{t.GetProperty("packets").GetInt64().ToString("N0", CultureInfo.InvariantCulture)} pkts / {Bytes(t.GetProperty("bytes").GetInt64())}";
    }

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
