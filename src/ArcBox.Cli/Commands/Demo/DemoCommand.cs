using System.ComponentModel;
using System.Diagnostics;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Nftables;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Demo;

[Description("Play the seed scenario in throwaway namespaces: a daemon, an 'internet', two sandboxes, attacks that fail")]
public sealed class DemoCommand : AsyncCommand<JsonSettings>
{
    private const string Seed = """
        network:
          outbound:
            - protocol: tcp
              ports: [80, 443]
            - protocol: udp
              port: 53 # DNS only
          inbound:
            - from: 10.0.0.0/24
              port: 8080
        """;

    // Sandbox to sandbox needs both sides: the neighbour's outbound must name web's service too.
    private const string Neighbour = """
        network:
          outbound:
            - protocol: tcp
              ports: [80, 443]
            - protocol: udp
              port: 53 # DNS only
            - protocol: tcp
              port: 8080
              to: sandbox:web
          inbound:
            - from: 10.0.0.0/24
              port: 8080
        """;

    public override async Task<int> ExecuteAsync(CommandContext context, JsonSettings settings, CancellationToken cancellationToken)
    {
        if (Environment.UserName != "root")
        {
            throw new CliException(ExitCodes.Failure, "the demo needs root: it creates network namespaces (and removes them)");
        }

        using var world = new DemoWorld();
        Console.CancelKeyPress += (_, _) => world.Dispose();
        var attempts = new List<Attempt>();
        var started = Stopwatch.StartNew();
        Say(settings, $"building a throwaway world: host {world.HostName}, internet {world.InternetName}");
        world.Build();
        world.StartDaemon();
        using (var api = new ApiClient(world.Socket))
        {
            Say(settings, "creating sandbox 'web' (the seed policy) and its neighbour 'client' (the seed policy plus tcp 8080 to sandbox:web)");
            await api.SendAsync(HttpMethod.Post, "v1/sandboxes", new CreateRequest("web", null, new PolicyInput(null, Seed, "seed.yaml"), null, null), cancellationToken);
            await api.SendAsync(HttpMethod.Post, "v1/sandboxes", new CreateRequest("client", null, new PolicyInput(null, Neighbour, "neighbour.yaml"), null, null), cancellationToken);
        }

        world.Serve(world.InternetPath, "22,80,443");
        world.Serve(world.SandboxPath("web"), "8080");
        world.Serve(world.SandboxPath("client"), "8080");
        world.Serve(world.HostPath, "2222");

        var web = world.SandboxPath("web");
        var client = world.SandboxPath("client");
        Probe(world, attempts, "client", client, "web's service", "tcp:10.0.0.2:8080", expectOpen: true);
        Probe(world, attempts, "web", web, "the internet over HTTP", $"tcp:{DemoWorld.Web}:80", expectOpen: true);
        Probe(world, attempts, "web", web, "the internet over HTTPS", $"tcp:{DemoWorld.Web}:443", expectOpen: true);
        Probe(world, attempts, "web (attacker)", web, "an SSH server on the internet", $"tcp:{DemoWorld.Ssh}:22", expectOpen: false);
        Probe(world, attempts, "web (attacker)", web, "the host, by its gateway address", "tcp:10.0.0.1:2222", expectOpen: false);
        Probe(world, attempts, "web (attacker)", web, "the host, by its uplink address", $"tcp:{DemoWorld.Uplink}:2222", expectOpen: false);
        Probe(world, attempts, "web (attacker)", web, "the neighbour sandbox", "tcp:10.0.0.3:8080", expectOpen: false);
        Probe(world, attempts, "web (attacker)", web, "the cloud metadata service", "tcp:169.254.169.254:80", expectOpen: false);
        Probe(world, attempts, "internet", world.InternetPath, "web's service from outside", "tcp:10.0.0.2:8080", expectOpen: false);
        Spoof(world, attempts, web);

        world.Dispose();
        var passed = attempts.All(a => a.AsExpected);
        if (settings.Json)
        {
            Json.Write(new { passed, seconds = Math.Round(started.Elapsed.TotalSeconds, 1), attempts });
        }
        else
        {
            Render(attempts);
            Console.Out.WriteLine(passed
                ? $"every attempt ended as the policy says ({attempts.Count} attempts, {started.Elapsed.TotalSeconds:F1} s); the namespaces are gone"
                : "SOME ATTEMPTS DID NOT END AS THE POLICY SAYS");
        }

        return passed ? ExitCodes.Success : ExitCodes.Invalid;
    }

    private static void Probe(DemoWorld world, List<Attempt> attempts, string from, string ns, string what, string spec, bool expectOpen)
    {
        var line = world.Run(ns, "_tools", "probe", "--timeout-ms", "700", spec).Trim();
        var result = line.Length > spec.Length ? line[(spec.Length + 1)..] : "error";
        var open = result.StartsWith("open", StringComparison.Ordinal);
        attempts.Add(new Attempt(from, what, spec, expectOpen ? "allow" : "deny", open ? "reached" : "blocked", result.Replace('_', ' '), open == expectOpen));
    }

    /// <summary>Forged source address from inside web: the kernel's anti-spoofing counter must take every packet.</summary>
    private static void Spoof(DemoWorld world, List<Attempt> attempts, string web)
    {
        using var hostNs = NetworkNamespace.Open(world.HostPath);
        using var nft = NftablesContext.OpenIn(hostNs);
        long Count() => long.Parse(System.Text.RegularExpressions.Regex.Match(nft.List($"list counter inet arcbox-{world.Prefix} spoofed"), @"packets (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var before = Count();
        world.Run(web, "_tools", "spoof", "--from", "10.0.0.3", "--to", $"{DemoWorld.Web}:53", "--count", "5");
        var dropped = Count() - before;
        attempts.Add(new Attempt("web (attacker)", "spoof the neighbour's address", $"udp from 10.0.0.3 to {DemoWorld.Web}:53", "deny", dropped >= 5 ? "blocked" : "reached", $"{dropped} of 5 packets dropped as spoofed", dropped >= 5));
    }

    private static void Render(List<Attempt> attempts)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("ArcBox demo: the seed scenario");
        foreach (var column in new[] { "from", "tries to reach", "flow", "policy", "result", "" })
        {
            table.AddColumn(column);
        }

        foreach (var a in attempts)
        {
            table.AddRow(
                Markup.Escape(a.From),
                Markup.Escape(a.What),
                Markup.Escape(a.Flow),
                a.Policy,
                a.Result == "reached" ? "[green]reached[/]" : "[red]blocked[/]",
                a.AsExpected ? "[green]as expected[/]" : $"[bold red]WRONG ({Markup.Escape(a.Detail)})[/]");
        }

        AnsiConsole.Write(table);
    }

    private static void Say(JsonSettings settings, string message)
    {
        if (!settings.Json)
        {
            Console.Out.WriteLine(message);
        }
    }

    private sealed record Attempt(string From, string What, string Flow, string Policy, string Result, string Detail, bool AsExpected);
}
