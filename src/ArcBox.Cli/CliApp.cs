using ArcBox.Cli.Commands.Daemon;
using ArcBox.Cli.Commands.Demo;
using ArcBox.Cli.Commands.Dns;
using ArcBox.Cli.Commands.Forward;
using ArcBox.Cli.Commands.Policy;
using ArcBox.Cli.Commands.Sandboxes;
using ArcBox.Cli.Commands.Tools;
using ArcBox.Cli.Commands.Vm;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli;

/// <summary>The command tree, and the one place that turns exceptions into exit codes.</summary>
public static class CliApp
{
    /// <summary>What follows "--" (the command of `arcbox exec`), kept from Spectre's tokenizer, which rejects
    /// options such as "-c1" even after "--".</summary>
    public static IReadOnlyList<string> Passthrough { get; private set; } = [];

    public static int Run(string[] args)
    {
        var separator = Array.IndexOf(args, "--");
        if (separator >= 0)
        {
            Passthrough = args[(separator + 1)..];
            args = args[..separator];
        }

        args = GlobalOptions.MoveAfterCommand(args);
        var json = args.Contains("--json");
        var app = new CommandApp();
        app.Configure(Configure);
        try
        {
            return app.Run(args);
        }
        catch (CliException ex)
        {
            return Fail(json, ex.ExitCode, ex.Message, ex.Details);
        }
        catch (CommandAppException ex)
        {
            return Fail(json, ExitCodes.Usage, ex.Message, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A bug of ours: say what failed, without a stack trace in the user's face.
            return Fail(json, ExitCodes.Failure, $"unexpected error: {ex.GetType().Name}: {ex.Message}", null);
        }
    }

    public static void Configure(IConfigurator config)
    {
        config.SetApplicationName("arcbox");
        config.SetApplicationVersion(typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        config.UseStrictParsing();
        config.PropagateExceptions();
        config.AddCommand<DemoCommand>("demo");
        config.AddCommand<DaemonCommand>("daemon")
            .WithExample("daemon", "--state-dir", "/var/lib/arcbox");
        config.AddCommand<CreateCommand>("create")
            .WithExample("create", "web", "--policy", "examples/seed.yaml")
            .WithExample("create", "vm1", "--attach", "tap", "--tap-owner", "1000");
        config.AddCommand<ListCommand>("ls");
        config.AddCommand<InspectCommand>("inspect");
        config.AddCommand<RemoveCommand>("rm");
        config.AddCommand<StatsCommand>("stats")
            .WithExample("stats")
            .WithExample("stats", "web", "--json");
        config.AddCommand<TopCommand>("top");
        config.AddCommand<LogsCommand>("logs")
            .WithExample("logs", "web", "--dns")
            .WithExample("logs", "web", "--denied", "--follow")
            .WithExample("logs", "--json");
        config.AddBranch("dns", dns =>
        {
            dns.SetDescription("Ask the embedded resolver");
            dns.AddCommand<QueryCommand>("query")
                .WithExample("dns", "query", "pypi.org", "--sandbox", "web");
        });
        config.AddBranch<ArcBox.Cli.Infrastructure.ClientSettings>("forward", forward =>
        {
            forward.SetDescription("Expose one port of a sandbox on the host: arcbox forward HOSTADDR:PORT SANDBOX:PORT [[--udp]], also written 'HOSTADDR:PORT => SANDBOX:PORT' (quoted: an unquoted => is a shell redirection). HOSTADDR: localhost (the host only), 0.0.0.0 or [[::]] (every address), or one host address. ls and rm list and remove forwards.");
            forward.SetDefaultCommand<ForwardCommand>();
            forward.AddCommand<ForwardListCommand>("ls");
            forward.AddCommand<ForwardRemoveCommand>("rm");
        });
        config.AddBranch("vm", vm =>
        {
            vm.SetDescription("Run QEMU microVMs on tap sandboxes");
            vm.AddCommand<VmRunCommand>("run")
                .WithExample("vm", "run", "vm1", "--kernel", "vmlinuz", "--initrd", "initrd.img", "--policy", "examples/seed.yaml")
                .WithExample("vm", "run", "vm1", "--kernel", "vmlinuz", "--initrd", "initrd.img", "--append", "ip=dhcp", "--detach");
            vm.AddCommand<VmStopCommand>("stop");
            vm.AddCommand<VmRemoveCommand>("rm");
            vm.AddCommand<VmListCommand>("ls");
            vm.AddCommand<VmLogsCommand>("logs")
                .WithExample("vm", "logs", "vm1", "--follow");
        });
        config.AddCommand<ExecCommand>("exec")
            .WithExample("exec", "web", "--", "curl", "http://203.0.113.10/");
        AddTools(config);
        config.AddBranch("policy", policy =>
        {
            policy.SetDescription("Validate, compile and explain sandbox policies");
            policy.AddCommand<ValidateCommand>("validate")
                .WithExample("policy", "validate", "examples/seed.yaml");
            policy.AddCommand<CompileCommand>("compile")
                .WithExample("policy", "compile", "examples/seed.yaml", "--name", "web", "--ip", "10.0.0.2");
            policy.AddCommand<ExplainCommand>("explain")
                .WithExample("policy", "explain", "examples/seed.yaml", "--name", "web", "--ip", "10.0.0.2", "--to", "203.0.113.7:443/tcp")
                .WithExample("policy", "explain", "web", "--from", "10.0.0.3", "--port", "8080/tcp");
            policy.AddCommand<SetCommand>("set")
                .WithExample("policy", "set", "web", "examples/seed.yaml");
            policy.AddCommand<ShowCommand>("show")
                .WithExample("policy", "show", "web", "--format", "nft");
        });
    }

    private static void AddTools(IConfigurator config) =>
        config.AddBranch("_tools", tools =>
        {
            tools.SetDescription("Servers and probes for the demo and the tests");
            tools.HideBranch();
            tools.AddCommand<ServeCommand>("serve");
            tools.AddCommand<ProbeCommand>("probe");
            tools.AddCommand<SpoofCommand>("spoof");
        });

    private static int Fail(bool json, int exitCode, string message, object? details)
    {
        if (json)
        {
            Json.WriteError(exitCode, message, details);
        }
        else
        {
            Console.Error.WriteLine($"arcbox: {message}");
            if (exitCode == ExitCodes.Usage)
            {
                Console.Error.WriteLine("Run 'arcbox --help' (or 'arcbox COMMAND --help') for usage.");
            }
        }

        return exitCode;
    }
}
