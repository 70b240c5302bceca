namespace ArcBox.Policy.Evaluation;

/// <summary>What an address is, seen from the ArcBox network.</summary>
public enum AddressKind
{
    /// <summary>One of the host's own addresses, the gateways included.</summary>
    Host,

    /// <summary>The address of an existing sandbox.</summary>
    Sandbox,

    /// <summary>Inside the ArcBox subnets but not assigned to a sandbox.</summary>
    Network,

    /// <summary>Private, loopback, link-local, multicast or reserved (see <see cref="AddressRanges"/>).</summary>
    NonPublic,

    Internet,
}
