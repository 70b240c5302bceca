namespace ArcBox.Daemon.Sandboxes;

/// <summary>An expected failure of a request, with what the client should see. Nothing was changed.</summary>
public sealed class RequestException(ErrorCode code, string message, object? details = null) : Exception(message)
{
    public ErrorCode Code { get; } = code;

    public object? Details { get; } = details;
}
