using System.ComponentModel;
using ArcBox.Daemon.Config;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Infrastructure;

/// <summary>Options of every command that talks to the daemon.</summary>
public class ClientSettings : JsonSettings
{
    [CommandOption("--socket <PATH>")]
    [Description("The daemon's API socket (default: $ARCBOX_SOCKET, else /run/arcbox/arcbox.sock)")]
    public string? Socket { get; init; }

    public string SocketPath => Socket ?? Environment.GetEnvironmentVariable("ARCBOX_SOCKET") ?? DaemonConfig.DefaultSocketPath;

    public ApiClient Client() => new(SocketPath);
}
