using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("List sandboxes")]
public sealed class ListCommand : AsyncCommand<ClientSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClientSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var list = await client.SendAsync(HttpMethod.Get, "v1/sandboxes", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(list);
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "NAME", "ATTACH", "IPV4", "IPV6", "INTERFACE", "POLICY" })
        {
            table.AddColumn(column);
        }

        foreach (var s in list.EnumerateArray())
        {
            table.AddRow(
                Markup.Escape(s.GetProperty("name").GetString()!),
                Markup.Escape(s.GetProperty("attach").GetString()!),
                s.GetProperty("ipv4").GetString()!,
                s.TryGetProperty("ipv6", out var v6) ? v6.GetString()! : "-",
                s.GetProperty("hostInterface").GetString()!,
                Markup.Escape(s.GetProperty("policy").GetString()!));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
