using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Tools;

/// <summary>
/// A tiny server for demos and tests, run inside a namespace: each TCP connection gets one HTTP/1.0 answer naming
/// the port and the client's address (so a test sees the real source address); each UDP datagram is echoed with the same.
/// </summary>
[Description("Serve TCP and UDP ports, answering with the client's address (for demos and tests)")]
public sealed class ServeCommand : AsyncCommand<ServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--tcp <PORTS>")]
        public string? Tcp { get; init; }

        [CommandOption("--udp <PORTS>")]
        public string? Udp { get; init; }

        [CommandOption("--bind <ADDR>")]
        [DefaultValue("::")]
        public string Bind { get; init; } = "::";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var bind = IPAddress.Parse(settings.Bind);
        var tasks = new List<Task>();
        foreach (var port in Ports(settings.Tcp))
        {
            var listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            DualMode(listener, bind);
            listener.Bind(new IPEndPoint(bind, port));
            listener.Listen(512);
            tasks.Add(AcceptLoop(listener, port, cancellationToken));
        }

        // One UDP socket per local address: a reply must leave from the address the client sent to, or its
        // connection tracking (and the client's connected socket) would not recognise it.
        var udpAddresses = bind.Equals(IPAddress.IPv6Any) || bind.Equals(IPAddress.Any) ? LocalAddresses() : [bind];
        foreach (var port in Ports(settings.Udp))
        {
            foreach (var address in udpAddresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                socket.Bind(new IPEndPoint(address, port));
                tasks.Add(EchoLoop(socket, port, cancellationToken));
            }
        }

        if (tasks.Count == 0)
        {
            throw CliException.Usage("give --tcp and/or --udp ports");
        }

        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        await Task.WhenAny(tasks);
        return ExitCodes.Success;
    }

    internal static IEnumerable<int> Ports(string? list) =>
        string.IsNullOrEmpty(list) ? [] : list.Split(',').Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture));

    private static List<IPAddress> LocalAddresses() =>
        [.. System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .Where(a => !a.IsIPv6LinkLocal)];

    private static void DualMode(Socket socket, IPAddress bind)
    {
        if (bind.AddressFamily == AddressFamily.InterNetworkV6 && bind.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }
    }

    private static async Task AcceptLoop(Socket listener, int port, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var client = await listener.AcceptAsync(ct);
            _ = Task.Run(
                async () =>
                {
                    using (client)
                    {
                        var remote = (IPEndPoint)client.RemoteEndPoint!;
                        var body = $"arcbox {port} {Normalize(remote.Address)}\n";
                        await client.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"), SocketFlags.None, ct);
                        client.Shutdown(SocketShutdown.Both);
                    }
                },
                ct);
        }
    }

    private static async Task EchoLoop(Socket socket, int port, CancellationToken ct)
    {
        var buffer = new byte[2048];
        while (!ct.IsCancellationRequested)
        {
            var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), ct);
            var remote = (IPEndPoint)result.RemoteEndPoint;
            await socket.SendToAsync(Encoding.ASCII.GetBytes($"arcbox {port} {Normalize(remote.Address)}\n"), SocketFlags.None, remote, ct);
        }
    }

    private static IPAddress Normalize(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
