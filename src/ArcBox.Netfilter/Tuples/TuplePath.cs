namespace ArcBox.Netfilter.Tuples;

/// <summary>Where a packet meets a sandbox's policy: the hook and the side of the sandbox that decides.</summary>
public enum TuplePath
{
    /// <summary>Forwarded, the sandbox is the sender: keyed on the destination (outbound rules).</summary>
    Out,

    /// <summary>Forwarded, the sandbox is the receiver: keyed on the source (inbound rules).</summary>
    In,

    /// <summary>From the sandbox to the host (input hook): DNS and outbound rules that name the host.</summary>
    Host,

    /// <summary>From the host to the sandbox (output hook): inbound rules that name the host.</summary>
    HostIn,
}
