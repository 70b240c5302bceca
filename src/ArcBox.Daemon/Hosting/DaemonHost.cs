using System.Net.Sockets;
using ArcBox.Daemon.Api;
using ArcBox.Daemon.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Hosting;

/// <summary>
/// `arcbox daemon`: runs in the foreground in the namespace it is started in, reconciles, serves the API on a
/// Unix socket (0600), tells systemd when ready, and on SIGTERM/SIGINT stops, leaving the kernel enforcing.
/// </summary>
public static class DaemonHost
{
    public static async Task<int> RunAsync(DaemonOptions options, TextWriter errors)
    {
        var (config, diagnostics) = ConfigReader.Load(options.ConfigPath, options.StateDirectory, options.SocketPath);
        foreach (var d in diagnostics)
        {
            await errors.WriteLineAsync(d.ToString());
        }

        if (config is null)
        {
            return 1;
        }

        Directory.CreateDirectory(config.StateDirectory);
        using var stateLock = LockStateDirectory(config.StateDirectory);
        PrepareSocket(config.SocketPath);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(o =>
        {
            o.ListenUnixSocket(config.SocketPath);
            if (config.MetricsListen is { } metrics)
            {
                o.Listen(metrics);
            }

            o.Limits.MaxRequestBodySize = ApiEndpoints.MaxBodyBytes;
            o.AddServerHeader = false;
        });
        builder.Host.UseSystemd();
        await using var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("arcbox");

        // Reconcile before the API opens and before systemd hears READY=1.
        using var services = DaemonServices.Start(config, log);

        // The metrics listener is TCP: it serves /metrics and nothing else (the API is only on the Unix socket).
        app.Use(async (context, next) =>
        {
            if (context.Connection.LocalIpAddress is not null && context.Request.Path != "/metrics")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
        app.Use(ApiErrors.Middleware(log));
        ApiEndpoints.Map(app, services);
        await app.StartAsync();
        if (config.MetricsListen is { } listen)
        {
            Log.MetricsListening(log, listen.ToString());
        }

        File.SetUnixFileMode(config.SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Log.Listening(log, config.SocketPath);
        await app.WaitForShutdownAsync();
        Log.Stopping(log);
        return 0;
    }

    /// <summary>One daemon per state directory: a second one would fight over the same kernel objects.</summary>
    private static FileStream LockStateDirectory(string directory)
    {
        var path = Path.Combine(directory, "daemon.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"another arcbox daemon is using the state directory {directory}", ex);
        }
    }

    private static void PrepareSocket(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(path))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            throw new InvalidOperationException($"a daemon is already listening on {path}");
        }
        catch (SocketException)
        {
            // A socket file nobody listens on: left over from a daemon that was killed.
            File.Delete(path);
        }
    }
}
