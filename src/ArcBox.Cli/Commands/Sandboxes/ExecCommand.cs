using System.ComponentModel;
using System.Diagnostics;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Run a command inside a netns sandbox: arcbox exec NAME -- CMD ARGS...")]
public sealed class ExecCommand : AsyncCommand<NameSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, NameSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            return await RunAsync(settings, cancellationToken);
        }
        catch (CliException ex) when (ex.ExitCode != ExitCodes.ExecFailed)
        {
            throw new CliException(ExitCodes.ExecFailed, ex.Message, ex.Details, ex);
        }
    }

    private static async Task<int> RunAsync(NameSettings settings, CancellationToken cancellationToken)
    {
        var command = CliApp.Passthrough;
        if (command.Count == 0)
        {
            throw CliException.Usage("give the command after --: arcbox exec NAME -- CMD ARGS...");
        }

        using var client = settings.Client();
        var sandbox = await client.SendAsync(HttpMethod.Get, $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}", ct: cancellationToken);
        if (!sandbox.TryGetProperty("netnsPath", out var ns))
        {
            throw new CliException(ExitCodes.Invalid, $"{settings.Name} is a tap sandbox: its network lives in the VM; run commands in the guest");
        }

        // nsenter changes only the network namespace; the command keeps our mounts, user and environment.
        var psi = new ProcessStartInfo("nsenter") { UseShellExecute = false };
        psi.ArgumentList.Add($"--net={ns.GetString()}");
        psi.ArgumentList.Add("--");
        foreach (var arg in command)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new CliException(ExitCodes.ExecFailed, "cannot start nsenter");
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }
}
