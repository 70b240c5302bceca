namespace ArcBox.Cli.Infrastructure;

/// <summary>An expected failure with the exit code it maps to; printed without a stack trace.</summary>
public class CliException(int exitCode, string message, object? details = null, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>Extra JSON-serialisable data for --json output (diagnostics, for instance).</summary>
    public object? Details { get; } = details;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);
}
