namespace ArcBox.Daemon.Api;

/// <summary>Every API error: {"error": {"code", "message", "details"}}.</summary>
public sealed record ErrorBody(ErrorDetail Error);

/// <param name="Code">"invalid", "not_found", "conflict" or "failure".</param>
public sealed record ErrorDetail(string Code, string Message, object? Details);
