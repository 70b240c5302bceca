namespace ArcBox.Daemon.Sandboxes;

/// <summary>An expected failure of a request, with what the client should see. Nothing was changed.</summary>
/// <param name="inner">The failure behind it (a kernel error with its errno), kept for the log.</param>
public sealed class RequestException(ErrorCode code, string message, object? details = null, Exception? inner = null) : Exception(message, inner)
{
    public ErrorCode Code { get; } = code;

    public object? Details { get; } = details;
}
