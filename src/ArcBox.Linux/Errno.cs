using System.Runtime.InteropServices;

namespace ArcBox.Linux;

/// <summary>errno as a typed value; raw ints never leave this assembly.</summary>
public readonly record struct Errno(int Value)
{
    public static readonly Errno EPERM = new(1);
    public static readonly Errno ENOENT = new(2);
    public static readonly Errno ESRCH = new(3);
    public static readonly Errno EINTR = new(4);
    public static readonly Errno EAGAIN = new(11);
    public static readonly Errno ENOMEM = new(12);
    public static readonly Errno EACCES = new(13);
    public static readonly Errno EBUSY = new(16);
    public static readonly Errno EEXIST = new(17);
    public static readonly Errno ENODEV = new(19);
    public static readonly Errno EINVAL = new(22);
    public static readonly Errno ENOSPC = new(28);
    public static readonly Errno ERANGE = new(34);
    public static readonly Errno EOPNOTSUPP = new(95);
    public static readonly Errno EADDRNOTAVAIL = new(99);
    public static readonly Errno ENOBUFS = new(105);

    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM",
        [13] = "EACCES", [16] = "EBUSY", [17] = "EEXIST", [19] = "ENODEV", [22] = "EINVAL", [24] = "EMFILE", [28] = "ENOSPC",
        [31] = "EMLINK", [34] = "ERANGE", [36] = "ENAMETOOLONG", [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE",
        [99] = "EADDRNOTAVAIL", [101] = "ENETUNREACH", [105] = "ENOBUFS", [110] = "ETIMEDOUT", [113] = "EHOSTUNREACH",
    };

    public static Errno Last => new(Marshal.GetLastPInvokeError());

    public string Name => Names.TryGetValue(Value, out var name) ? name : $"errno {Value}";

    public string Description => Marshal.GetPInvokeErrorMessage(Value);

    public override string ToString() => $"{Name} ({Description})";
}
