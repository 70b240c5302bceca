using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Parsing;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

[Description("Say whether a policy allows a flow, and which rule decides")]
public sealed class ExplainCommand : Command<ExplainCommand.Settings>
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

        [CommandOption("--peer <NAME=ADDR>")]
        [Description("Another sandbox of the network (repeatable), for sandbox:NAME rules")]
        public string[] Peers { get; init; } = [];
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
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
