namespace ArcBox.Dns.FastPath;

/// <summary>What became of a datagram on the fast path.</summary>
internal enum Disposition
{
    /// <summary>The response is written; send it.</summary>
    Answered,

    /// <summary>Not from a sandbox, or over its rate: silence.</summary>
    Dropped,

    /// <summary>Not cached or not plain: the ARSoft.Tools.Net slow path answers it.</summary>
    Slow,
}
