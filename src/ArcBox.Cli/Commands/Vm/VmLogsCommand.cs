using System.ComponentModel;
using ArcBox.Cli.Commands.Sandboxes;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Vm;

[Description("Print a VM's serial console (kept in the state directory)")]
public sealed class VmLogsCommand : AsyncCommand<VmLogsCommand.Settings>
{
    public sealed class Settings : NameSettings
    {
        [CommandOption("-f|--follow")]
        [Description("Keep printing while the VM runs (Ctrl-C stops following, not the VM)")]
        public bool Follow { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Client();
        if (settings.Follow)
        {
            var code = await VmConsoleFollower.FollowAsync(client, settings.Name, 0, null, stopOnInterrupt: false);
            return code == VmConsoleFollower.Interrupted ? ExitCodes.Success : code;
        }

        // What the console held when asked, not what a chatty guest keeps adding (that is --follow).
        using var stdout = Console.OpenStandardOutput();
        long offset = 0;
        long? end = null;
        while (end is null || offset < end)
        {
            var (bytes, headers) = await client.GetBytesAsync($"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}/vm/console?offset={offset}", cancellationToken);
            end ??= headers.TryGetValues("X-Console-Length", out var length) ? long.Parse(length.First(), System.Globalization.CultureInfo.InvariantCulture) : null;
            if (bytes.Length == 0)
            {
                return ExitCodes.Success;
            }

            await stdout.WriteAsync(bytes, cancellationToken);
            offset = long.Parse(headers.GetValues("X-Console-Offset").First(), System.Globalization.CultureInfo.InvariantCulture);
        }

        return ExitCodes.Success;
    }
}
