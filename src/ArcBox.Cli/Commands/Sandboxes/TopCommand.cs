using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using ArcBox.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Live view of every sandbox: traffic rates up and down, drops per second, and the latest denied flows (q or Ctrl-C quits)")]
public sealed class TopCommand : AsyncCommand<TopCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandOption("--interval <SECONDS>")]
        [Description("Refresh interval (default 1)")]
        public double Interval { get; init; } = 1;

        [CommandOption("--iterations <N>")]
        [Description("Stop after N refreshes (default: until q or Ctrl-C)")]
        public int? Iterations { get; init; }

        public override ValidationResult Validate() =>
            Interval is < 0.1 or > 3600 ? ValidationResult.Error("--interval must be 0.1 to 3600 seconds")
            : Iterations is < 1 ? ValidationResult.Error("--iterations must be at least 1")
            : base.Validate();
    }

    private sealed record Sample(DateTimeOffset Time, long Sent, long Received, long Dropped);

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        using var interrupt = Interrupt.Watch();
        var previous = new Dictionary<string, Sample>(StringComparer.Ordinal);
        await AnsiConsole.Live(new Text("connecting...")).AutoClear(false).StartAsync(async live =>
        {
            for (var i = 0; settings.Iterations is null || i < settings.Iterations; i++)
            {
                var stats = await client.SendAsync(HttpMethod.Get, "v1/stats", ct: CancellationToken.None);
                var denied = await client.SendAsync(HttpMethod.Get, "v1/logs?denied=true&limit=8", ct: CancellationToken.None);
                live.UpdateTarget(Render(stats, denied, previous));
                live.Refresh();
                if (await WaitForQuit(TimeSpan.FromSeconds(settings.Interval), interrupt))
                {
                    return;
                }
            }
        });
        return ExitCodes.Success;
    }

    /// <summary>Waits one interval; true when q was pressed or Ctrl-C came.</summary>
    private static async Task<bool> WaitForQuit(TimeSpan interval, Interrupt interrupt)
    {
        var end = DateTime.UtcNow + interval;
        while (DateTime.UtcNow < end)
        {
            if (interrupt.Requested)
            {
                return true;
            }

            while (!Console.IsInputRedirected && Console.KeyAvailable)
            {
                if (Console.ReadKey(intercept: true).Key is ConsoleKey.Q or ConsoleKey.Escape)
                {
                    return true;
                }
            }

            await Task.Delay(50, CancellationToken.None);
        }

        return false;
    }

    private static Rows Render(JsonElement stats, JsonElement denied, Dictionary<string, Sample> previous)
    {
        var table = new Table().Border(TableBorder.Simple).Title($"arcbox top  {DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}  (q quits)");
        foreach (var column in new[] { "SANDBOX", "UP/s", "DOWN/s", "DROPS/s", "SENT", "RECEIVED", "DROPPED" })
        {
            table.AddColumn(new TableColumn(column) { Alignment = column == "SANDBOX" ? Justify.Left : Justify.Right });
        }

        foreach (var s in stats.EnumerateArray())
        {
            var name = s.GetProperty("name").GetString()!;
            var now = new Sample(
                s.GetProperty("time").GetDateTimeOffset(),
                s.GetProperty("sent").GetProperty("bytes").GetInt64(),
                s.GetProperty("received").GetProperty("bytes").GetInt64(),
                s.GetProperty("outDropped").GetProperty("packets").GetInt64() + s.GetProperty("inDropped").GetProperty("packets").GetInt64());
            string up = "-", down = "-", drops = "-";
            if (previous.TryGetValue(name, out var before) && (now.Time - before.Time).TotalSeconds is var seconds and > 0)
            {
                // Counters start again when a link is recreated or a policy swapped: no negative rates.
                up = Rate(Math.Max(0, now.Sent - before.Sent) / seconds);
                down = Rate(Math.Max(0, now.Received - before.Received) / seconds);
                drops = (Math.Max(0, now.Dropped - before.Dropped) / seconds).ToString("F0", CultureInfo.InvariantCulture);
            }

            previous[name] = now;
            table.AddRow(Markup.Escape(name), up, down, drops, StatsCommand.Bytes(now.Sent), StatsCommand.Bytes(now.Received), now.Dropped.ToString("N0", CultureInfo.InvariantCulture));
        }

        var flows = new Table().Border(TableBorder.Simple).Title("latest denied");
        foreach (var column in new[] { "TIME", "SANDBOX", "DIR", "RULE", "PROTO", "SOURCE", "DESTINATION" })
        {
            flows.AddColumn(column);
        }

        foreach (var e in denied.EnumerateArray().Reverse())
        {
            string S(string p) => e.TryGetProperty(p, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "";
            flows.AddRow(
                e.GetProperty("time").GetDateTimeOffset().ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                Markup.Escape(S("sandbox")),
                S("direction"),
                Markup.Escape(S("kind") == "dns" ? "dns" : S("ruleId")),
                Markup.Escape(S("protocol")),
                Markup.Escape(S("sourcePort").Length > 0 ? $"{S("source")}:{S("sourcePort")}" : S("source")),
                Markup.Escape(S("kind") == "dns" ? S("name") : S("destinationPort").Length > 0 ? $"{S("destination")}:{S("destinationPort")}" : S("destination")));
        }

        return new Rows(table, flows);
    }

    private static string Rate(double bytesPerSecond) => (bytesPerSecond * 8) switch
    {
        >= 1e9 and var b => string.Create(CultureInfo.InvariantCulture, $"{b / 1e9:F1} Gbit"),
        >= 1e6 and var b => string.Create(CultureInfo.InvariantCulture, $"{b / 1e6:F1} Mbit"),
        >= 1e3 and var b => string.Create(CultureInfo.InvariantCulture, $"{b / 1e3:F1} kbit"),
        var b => string.Create(CultureInfo.InvariantCulture, $"{b:F0} bit"),
    };
}
