using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using ArcBox.Policy.Parsing;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

[Description("Check policy files; print every problem as file:line:column")]
public sealed class ValidateCommand : Command<ValidateCommand.Settings>
{
    public sealed class Settings : JsonSettings
    {
        [CommandArgument(0, "<FILES>")]
        [Description("Policy files")]
        public string[] Files { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var results = settings.Files.Select(f => (File: f, Result: PolicyFileReader.Parse(f))).ToList();
        var valid = results.All(r => r.Result.Success);
        if (settings.Json)
        {
            Json.Write(new
            {
                valid,
                files = results.Select(r => new
                {
                    file = r.File,
                    valid = r.Result.Success,
                    diagnostics = r.Result.Diagnostics.Select(DiagnosticView.From),
                }),
            });
        }
        else
        {
            foreach (var (file, result) in results)
            {
                foreach (var diagnostic in result.Diagnostics)
                {
                    Console.Out.WriteLine(diagnostic);
                }

                var warnings = result.Diagnostics.Count(d => !d.IsError);
                var errors = result.Diagnostics.Length - warnings;
                Console.Out.WriteLine(result.Success
                    ? $"{file}: valid ({result.Policy!.Outbound.Length} outbound, {result.Policy.Inbound.Length} inbound rules{(warnings > 0 ? $", {warnings} warning(s)" : "")})"
                    : $"{file}: invalid ({errors} error(s){(warnings > 0 ? $", {warnings} warning(s)" : "")})");
            }
        }

        return valid ? ExitCodes.Success : ExitCodes.Invalid;
    }
}
