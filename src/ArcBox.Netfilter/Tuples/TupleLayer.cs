namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// The layers of a path, in the order the base chain looks them up: the first hit decides. Elements inside one layer
/// never overlap; a higher layer holds only what differs from what the layers below it would answer, so a packet
/// that hits several layers gets the answer of the first rule of the policy that matches it.
/// </summary>
public enum TupleLayer
{
    /// <summary>Addresses the resolver learnt for `domains` rules (full-length addresses, with timeouts).</summary>
    Learnt,

    /// <summary>Learnt addresses for every protocol (`domains` rules with protocol any and no ports).</summary>
    LearntAnyProtocol,

    /// <summary>Protocol, port block and address block.</summary>
    Address,

    /// <summary>Address block for every protocol (rules with protocol any and no ports).</summary>
    AddressAnyProtocol,

    /// <summary>Protocol and port block, for any address the internet guard admits (forward), or the host (input, output).</summary>
    Service,

    /// <summary>Every protocol, for any address the internet guard admits, or the host.</summary>
    AnyProtocol,
}
