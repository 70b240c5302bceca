using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Forward;

[Description("List port forwards")]
public sealed class ForwardListCommand : AsyncCommand<ClientSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ClientSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        var list = await client.SendAsync(HttpMethod.Get, "v1/forwards", ct: cancellationToken);
        if (settings.Json)
        {
            Json.Write(list);
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Simple).AddColumns("HOST", "PROTOCOL", "SANDBOX");
        foreach (var f in list.EnumerateArray())
        {
            table.AddRow($"{f.GetProperty("host").GetString()}:{f.GetProperty("hostPort").GetInt32()}", f.GetProperty("protocol").GetString()!, Markup.Escape($"{f.GetProperty("sandbox").GetString()}:{f.GetProperty("sandboxPort").GetInt32()}"));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
