namespace ArcBox.Cli.Infrastructure;

/// <summary>Documented in docs/cli.md; scripts rely on them.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Invalid input: a policy that does not validate, a request the daemon refused as invalid.</summary>
    public const int Invalid = 1;

    /// <summary>Usage error: unknown command or option, missing or malformed argument.</summary>
    public const int Usage = 2;

    /// <summary>The operation was valid but failed (daemon unreachable, kernel error).</summary>
    public const int Failure = 3;

    /// <summary>`exec` could not run the command (no such sandbox, a tap sandbox, the daemon unreachable, no command
    /// given): docker's 125, so that it is told apart from the command's own exit codes. 126 (cannot run) and 127
    /// (not found) come from the exec itself, as in a shell.</summary>
    public const int ExecFailed = 125;
}
