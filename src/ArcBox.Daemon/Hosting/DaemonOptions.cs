namespace ArcBox.Daemon.Hosting;

/// <param name="ConfigPath">Null: /etc/arcbox/arcbox.yaml if it exists, else defaults.</param>
public sealed record DaemonOptions(string? ConfigPath, string StateDirectory, string SocketPath);
