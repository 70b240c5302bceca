using ArcBox.Testing;

namespace ArcBox.Cli.Tests;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the built CLI as a separate process, exactly as a user's shell would (exit codes, stdout and stderr).
/// </summary>
public static class CliRunner
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "arcbox.dll");

    public static CliResult Run(params string[] args)
    {
        var r = ProcessRunner.Run("dotnet", [Dll, .. args]);
        return new CliResult(r.ExitCode, r.Stdout, r.Stderr);
    }

    public static string Seed => Path.Combine(RepoPaths.Examples, "seed.yaml");

    public static string Bad(string name) => Path.Combine(RepoPaths.TestData, "bad", name + ".yaml");
}
