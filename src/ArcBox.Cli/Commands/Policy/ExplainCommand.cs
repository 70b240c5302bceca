using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Parsing;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

[Description("Say whether a policy allows a flow, and which rule decides: offline (FILE --name --ip) or for a live sandbox (NAME)")]
public sealed class ExplainCommand : AsyncCommand<ExplainCommand.Settings>
{
    public sealed class Settings : OfflineSandboxSettings
    {
        [CommandOption("--to <ADDR:PORT/PROTO>")]
        [Description("Outbound flow, such as 203.0.113.7:443/tcp or 198.51.100.1/icmp")]
        public string? To { get; init; }

        [CommandOption("--from <ADDR>")]
        [Description("Inbound flow: its source address")]
        public string? From { get; init; }

        [CommandOption("--port <PORT/PROTO>")]
        [Description("Inbound flow: the sandbox's port, such as 8080/tcp (or icmp)")]
        public string? Port { get; init; }

        [CommandOption("--domain <NAME>")]
        [Description("The name the destination address was resolved from")]
        public string? Domain { get; init; }

        [CommandOption("--socket <PATH>")]
        [Description("Live mode: the daemon's API socket (default: $ARCBOX_SOCKET, else /run/arcbox/arcbox.sock)")]
        public string? Socket { get; init; }

        [CommandOption("--peer <NAME=ADDR>")]
        [Description("Another sandbox of the network (repeatable), for sandbox:NAME rules")]
        public string[] Peers { get; init; } = [];
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var offline = settings.Name is not null || settings.Ip is not null || File.Exists(settings.File);
        return offline ? Offline(settings) : await Live(settings, cancellationToken);
    }

    /// <summary>`arcbox policy explain NAME ...`: asks the daemon, which evaluates against the live network.</summary>
    private static async Task<int> Live(Settings settings, CancellationToken cancellationToken)
    {
        if (ArcBox.Policy.Parsing.SandboxNames.Validate(settings.File) is not null)
        {
            throw CliException.Usage($"'{settings.File}' is neither a policy file nor a sandbox name; offline explain needs FILE --name NAME --ip ADDR");
        }

        var flow = FlowSpec.Parse(settings.To, settings.From, settings.Port, settings.Domain);
        var request = new ArcBox.Daemon.Api.ExplainRequest(
            flow.Direction == ArcBox.Policy.Model.Direction.Outbound ? "outbound" : "inbound",
            flow.Protocol.ToString().ToLowerInvariant(),
            flow.Peer.ToString(),
            flow.Protocol == ArcBox.Policy.Model.Protocol.Icmp ? null : flow.Port,
            flow.Domain);
        using var client = new ApiClient(settings.Socket ?? Environment.GetEnvironmentVariable("ARCBOX_SOCKET") ?? ArcBox.Daemon.Config.DaemonConfig.DefaultSocketPath);
        var result = await client.SendAsync(HttpMethod.Post, $"v1/sandboxes/{Uri.EscapeDataString(settings.File)}/explain", request, cancellationToken);
        var rule = result.GetProperty("rule").GetString()!;
        var decision = new Decision(result.GetProperty("verdict").GetString() == "allow", rule == Decision.DefaultRule ? null : rule);
        ExplainOutput.Write(settings.Json, settings.File, flow, decision, result.GetProperty("peerKind").GetString()!);
        return ExitCodes.Success;
    }

    private static int Offline(Settings settings)
    {
        var (network, identity) = settings.Resolve();
        var flow = FlowSpec.Parse(settings.To, settings.From, settings.Port, settings.Domain);
        var self = new SandboxAddresses(identity.Ipv4, identity.Ipv6);
        var view = network.ToView().WithSandbox(identity.Name, self);
        foreach (var peer in settings.Peers)
        {
            var eq = peer.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || SandboxNames.Validate(peer[..eq]) is not null || !Addresses.TryParseAddress(peer[(eq + 1)..], out var address, out _))
            {
                throw CliException.Usage($"--peer: expected NAME=ADDR with a valid sandbox name and address, got '{peer}'");
            }

            view = view.WithSandbox(peer[..eq], address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? new SandboxAddresses(address) : new SandboxAddresses(System.Net.IPAddress.None, address));
        }

        var policy = PolicyFiles.Load(settings.File, printWarnings: !settings.Json);
        var decision = PolicyEvaluator.Evaluate(policy, self, view, flow);
        ExplainOutput.Write(settings.Json, identity.Name, flow, decision, view);
        return ExitCodes.Success;
    }
}
