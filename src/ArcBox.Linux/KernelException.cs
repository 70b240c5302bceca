namespace ArcBox.Linux;

/// <summary>A kernel call failed. The message names the operation, the object and the errno:
/// "add route 10.0.0.7/32 dev ab-web: EEXIST (File exists)".</summary>
public sealed class KernelException(string operation, Errno errno, string? detail = null)
    : Exception($"{operation}: {errno}{(string.IsNullOrEmpty(detail) ? "" : " - " + detail)}")
{
    public string Operation { get; } = operation;

    public Errno Errno { get; } = errno;

    public static KernelException Last(string operation) => new(operation, Errno.Last);
}
