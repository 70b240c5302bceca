namespace ArcBox.Linux;

/// <summary>A kernel call failed. The message names the operation, the object and the errno:
/// "add route 10.0.0.7/32 dev ab-web: EEXIST (File exists)".</summary>
/// <param name="inner">The failure this one explains further, when it wraps one (it keeps its own errno).</param>
public sealed class KernelException(string operation, Errno errno, string? detail = null, Exception? inner = null)
    : Exception($"{operation}: {errno}{(string.IsNullOrEmpty(detail) ? "" : " - " + detail)}", inner)
{
    public string Operation { get; } = operation;

    public Errno Errno { get; } = errno;

    public static KernelException Last(string operation) => new(operation, Errno.Last);
}
