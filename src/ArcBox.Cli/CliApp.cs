using ArcBox.Cli.Commands.Policy;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli;

/// <summary>The command tree, and the one place that turns exceptions into exit codes.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
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
    }

    public static void Configure(IConfigurator config)
    {
        config.SetApplicationName("arcbox");
        config.SetApplicationVersion(typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        config.UseStrictParsing();
        config.PropagateExceptions();
        config.AddBranch("policy", policy =>
        {
            policy.SetDescription("Validate, compile and explain sandbox policies");
            policy.AddCommand<ValidateCommand>("validate")
                .WithExample("policy", "validate", "examples/seed.yaml");
            policy.AddCommand<CompileCommand>("compile")
                .WithExample("policy", "compile", "examples/seed.yaml", "--name", "web", "--ip", "10.0.0.2");
            policy.AddCommand<ExplainCommand>("explain")
                .WithExample("policy", "explain", "examples/seed.yaml", "--name", "web", "--ip", "10.0.0.2", "--to", "203.0.113.7:443/tcp");
        });
    }

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
