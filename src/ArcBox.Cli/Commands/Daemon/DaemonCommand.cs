using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Config;
using ArcBox.Daemon.Hosting;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Daemon;

[Description("Run the ArcBox daemon in the foreground, in the current network namespace (the host)")]
public sealed class DaemonCommand : AsyncCommand<DaemonCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--config <FILE>")]
        [Description("Config file (default /etc/arcbox/arcbox.yaml when it exists)")]
        public string? Config { get; init; }

        [CommandOption("--state-dir <DIR>")]
        [Description("Where desired state is kept (default /var/lib/arcbox)")]
        [DefaultValue(DaemonConfig.DefaultStateDirectory)]
        public string StateDir { get; init; } = DaemonConfig.DefaultStateDirectory;

        [CommandOption("--socket <PATH>")]
        [Description("The API socket (default /run/arcbox/arcbox.sock)")]
        [DefaultValue(DaemonConfig.DefaultSocketPath)]
        public string Socket { get; init; } = DaemonConfig.DefaultSocketPath;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            throw new CliException(ExitCodes.Failure, "the daemon needs root (network namespaces, links and nftables)");
        }

        try
        {
            return await DaemonHost.RunAsync(new DaemonOptions(settings.Config, Path.GetFullPath(settings.StateDir), Path.GetFullPath(settings.Socket)), Console.Error);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArcBox.Linux.KernelException or ArcBox.Linux.NftablesException or IOException)
        {
            throw new CliException(ExitCodes.Failure, ex.Message, inner: ex);
        }
    }
}
