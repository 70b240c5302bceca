namespace ArcBox.Daemon.Sandboxes;

public enum ErrorCode
{
    /// <summary>The request is wrong (bad name, policy that does not validate): HTTP 400, CLI exit 1.</summary>
    Invalid,

    /// <summary>HTTP 404, CLI exit 1.</summary>
    NotFound,

    /// <summary>Already exists or in use: HTTP 409, CLI exit 1.</summary>
    Conflict,

    /// <summary>Valid, but the kernel or the system failed: HTTP 500, CLI exit 3.</summary>
    Failure,
}
