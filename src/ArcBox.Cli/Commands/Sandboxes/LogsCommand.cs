using System.ComponentModel;
using System.Text.Json;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Logging;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Show what sandboxes tried: denied connection attempts (and, under `log: all`, allowed ones) with the rule that decided, and DNS queries")]
public sealed class LogsCommand : AsyncCommand<LogsCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "[NAME]")]
        [Description("Sandbox name (default: every sandbox)")]
        public string? Name { get; init; }

        [CommandOption("--dns")]
        [Description("Only DNS queries, in detail: name, type, verdict, answers and the addresses admitted for domains rules")]
        public bool Dns { get; init; }

        [CommandOption("-f|--follow")]
        [Description("Keep printing new entries until interrupted (with --json: one JSON object per line)")]
        public bool Follow { get; init; }

        [CommandOption("--denied")]
        [Description("Only what was denied: dropped flows and refused queries")]
        public bool Denied { get; init; }

        public override Spectre.Console.ValidationResult Validate() =>
            Dns && (Name is null || Follow || Denied)
                ? Spectre.Console.ValidationResult.Error("--dns shows one sandbox's queries: give NAME, without --follow or --denied")
                : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!settings.Dns)
        {
            return await Flows(settings);
        }

        using var client = settings.Client();
        var log = await client.SendAsync(HttpMethod.Get, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name!)}/dns-log", ct: cancellationToken);
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

    private static async Task<int> Flows(Settings settings)
    {
        using var client = settings.Client();
        using var interrupt = Interrupt.Watch();
        var path = settings.Name is null ? "v1/logs" : $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}/logs";
        LogCursor? cursor = null;
        while (true)
        {
            var query = $"{path}?denied={(settings.Denied ? "true" : "false")}{(cursor is null ? "" : "&cursor=" + cursor)}";
            var entries = await client.SendAsync(HttpMethod.Get, query, ct: CancellationToken.None);
            if (settings.Json && !settings.Follow)
            {
                Json.Write(entries);
                return ExitCodes.Success;
            }

            foreach (var e in entries.EnumerateArray())
            {
                Console.Out.WriteLine(settings.Json ? e.GetRawText() : Line(e));
            }

            // The next page starts after the highest flow and DNS numbers seen: nothing is skipped or repeated,
            // whatever the entries' timestamps.
            cursor = (cursor ?? default).After(entries.Deserialize<List<LogEntry>>(Json.Options)!);

            if (!settings.Follow)
            {
                return ExitCodes.Success;
            }

            if (await interrupt.WaitAsync(TimeSpan.FromMilliseconds(500)))
            {
                return ExitCodes.Success;
            }
        }
    }

    /// <summary>12:00:01.123 web out drop default tcp 10.0.0.2:40000 -> 203.0.113.22:22</summary>
    private static string Line(System.Text.Json.JsonElement e)
    {
        string S(string p) => e.TryGetProperty(p, out var v) && v.ValueKind != System.Text.Json.JsonValueKind.Null ? v.ToString() : "";
        string Endpoint(string address, string port) => S(port).Length > 0 ? (S(address).Contains(':', StringComparison.Ordinal) ? $"[{S(address)}]:{S(port)}" : $"{S(address)}:{S(port)}") : S(address);
        var time = e.GetProperty("time").GetDateTimeOffset().ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        return S("kind") == "dns"
            ? $"{time} {S("sandbox")} dns {S("verdict")} {S("name")} {S("type")}{(e.TryGetProperty("answers", out var a) && a.GetArrayLength() > 0 ? " -> " + string.Join(", ", a.EnumerateArray().Select(x => x.GetString())) : "")}"
            : $"{time} {S("sandbox")} {S("direction")} {S("verdict")} {S("ruleId")} {S("protocol")} {Endpoint("source", "sourcePort")} -> {Endpoint("destination", "destinationPort")}";
    }
}
