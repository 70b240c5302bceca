using System.ComponentModel;
using System.Text.Json;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Sandboxes;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

[Description("Create a sandbox: its own link, address and policy")]
public sealed class CreateCommand : AsyncCommand<CreateCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Sandbox name (lower-case letters, digits, '-')")]
        public string Name { get; init; } = "";

        [CommandOption("--policy <FILE>")]
        [Description("Policy file, or a built-in: default (DNS, HTTP, HTTPS out), offline")]
        public string? Policy { get; init; }

        [CommandOption("--attach <KIND>")]
        [Description("netns (a new namespace, default), netns:PATH, pid:PID (a container's namespace) or tap (for a VMM)")]
        public string? Attach { get; init; }

        [CommandOption("--ip <ADDR>")]
        [Description("IPv4 address inside the network (default: allocated)")]
        public string? Ip { get; init; }

        [CommandOption("--tap-owner <UID[:GID]>")]
        [Description("User (and group) that may open the TAP")]
        public string? TapOwner { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var policy = PolicyUpload.From(settings.Policy, printWarnings: !settings.Json);
        using var client = settings.Client();
        var result = await client.SendAsync(HttpMethod.Post, "v1/sandboxes", new CreateRequest(settings.Name, settings.Attach, policy, settings.Ip, settings.TapOwner), cancellationToken);
        if (settings.Json)
        {
            Json.Write(result);
        }
        else
        {
            var where = result.TryGetProperty("netnsPath", out var ns) ? $"namespace {ns.GetString()}" : $"tap {result.GetProperty("tapName").GetString()}";
            Console.Out.WriteLine($"created {result.GetProperty("name").GetString()}: {result.GetProperty("ipv4").GetString()} on {result.GetProperty("hostInterface").GetString()}, {where}, policy {result.GetProperty("policy").GetString()}");
        }

        return ExitCodes.Success;
    }
}
