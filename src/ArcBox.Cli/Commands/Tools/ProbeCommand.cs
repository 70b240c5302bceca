using System.ComponentModel;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using ArcBox.Cli.Infrastructure;
using ArcBox.Policy.Parsing;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Tools;

/// <summary>
/// Tries connections and prints one line each: "SPEC open|closed|timeout DETAIL". SPEC is tcp:ADDR:PORT,
/// udp:ADDR:PORT or icmp:ADDR ([v6] in brackets). Several specs (or --stdin) are probed in parallel.
/// </summary>
[Description("Try TCP, UDP and ICMP connections and report each (for demos and tests)")]
public sealed class ProbeCommand : AsyncCommand<ProbeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[SPECS]")]
        public string[] Specs { get; init; } = [];

        [CommandOption("--timeout-ms <MS>")]
        [DefaultValue(1000)]
        public int TimeoutMs { get; init; } = 1000;

        [CommandOption("--stdin")]
        public bool Stdin { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var specs = settings.Specs.ToList();
        if (settings.Stdin)
        {
            while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Trim().Length > 0)
                {
                    specs.Add(line.Trim());
                }
            }
        }

        var results = await Task.WhenAll(specs.Select(s => Probe(s, TimeSpan.FromMilliseconds(settings.TimeoutMs))));
        foreach (var (spec, result) in specs.Zip(results))
        {
            Console.Out.WriteLine($"{spec} {result}");
        }

        return ExitCodes.Success;
    }

    private static async Task<string> Probe(string spec, TimeSpan timeout)
    {
        var parts = spec.Split(':', 2);
        if (parts.Length != 2)
        {
            return "error bad-spec";
        }

        try
        {
            switch (parts[0])
            {
                case "icmp":
                    using (var ping = new Ping())
                    {
                        var reply = await ping.SendPingAsync(Address(parts[1]), timeout);
                        return reply.Status == IPStatus.Success ? "open echo-reply" : $"timeout {reply.Status}";
                    }

                case "tcp":
                    return await Tcp(Endpoint(parts[1]), timeout);
                case "udp":
                    return await Udp(Endpoint(parts[1]), timeout);
                default:
                    return "error bad-protocol";
            }
        }
        catch (Exception ex) when (ex is SocketException or FormatException or PingException)
        {
            return $"error {ex.Message.Replace(' ', '_')}";
        }
    }

    private static async Task<string> Tcp(IPEndPoint target, TimeSpan timeout)
    {
        using var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(target, cts.Token);
            var buffer = new byte[512];
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            var text = Encoding.ASCII.GetString(buffer, 0, n);
            var body = text.Contains("\r\n\r\n", StringComparison.Ordinal) ? text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..] : text;
            return "open " + body.Trim().Replace(' ', '_');
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return "closed refused";
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset)
        {
            return "open reset";
        }
        catch (OperationCanceledException)
        {
            return socket.Connected ? "open no-answer" : "timeout";
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable)
        {
            return "closed unreachable";
        }
    }

    private static async Task<string> Udp(IPEndPoint target, TimeSpan timeout)
    {
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var cts = new CancellationTokenSource(timeout);
        socket.Connect(target);
        await socket.SendAsync(Encoding.ASCII.GetBytes("probe"), SocketFlags.None);
        var buffer = new byte[512];
        try
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return "open " + Encoding.ASCII.GetString(buffer, 0, n).Trim().Replace(' ', '_');
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return "closed refused";
        }
        catch (OperationCanceledException)
        {
            return "timeout";
        }
    }

    private static IPAddress Address(string text) =>
        Addresses.TryParseAddress(text.Trim('[', ']'), out var a, out var e) ? a : throw new FormatException(e);

    private static IPEndPoint Endpoint(string text) =>
        Addresses.TryParseEndpoint(text, 0, out var ep, out var e) && ep.Port != 0 ? ep : throw new FormatException(e.Length > 0 ? e : "missing port");
}
