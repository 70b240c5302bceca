using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Rendering;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Policy;

[Description("Compile a policy into a complete ruleset for a host with that one sandbox (nft -f / iptables-restore)")]
public sealed class CompileCommand : Command<CompileCommand.Settings>
{
    public sealed class Settings : OfflineSandboxSettings
    {
        [CommandOption("--format <FORMAT>")]
        [Description("nft (default), iptables, or json (the compiled plan)")]
        [DefaultValue("nft")]
        public string Format { get; init; } = "nft";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Format is not ("nft" or "iptables" or "json"))
        {
            throw CliException.Usage($"--format: unknown format '{settings.Format}': expected nft, iptables or json");
        }

        var (network, identity) = settings.Resolve();
        var policy = PolicyFiles.Load(settings.File, printWarnings: !settings.Json);
        var plan = SandboxCompiler.Compile(network, identity, policy);
        var output = settings.Format switch
        {
            "iptables" => IptablesRenderer.Render(network, identity, policy),
            "json" => PlanJson.Serialize(PlanJson.Render(network, plan)),
            _ => NftRenderer.RenderRuleset(BaseTableBuilder.Build(network), [plan]),
        };

        if (settings.Json && settings.Format != "json")
        {
            Json.Write(new { format = settings.Format, table = network.Table, sandbox = identity.Name, @interface = identity.Interface, script = output });
        }
        else
        {
            Console.Out.Write(output);
            if (!output.EndsWith('\n'))
            {
                Console.Out.WriteLine();
            }
        }

        return ExitCodes.Success;
    }
}
