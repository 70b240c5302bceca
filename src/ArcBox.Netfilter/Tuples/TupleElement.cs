namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// One element of a tuple's map: the sandbox's interface, the protocol number (0 in a tuple without protocol), the
/// port and address already masked to the tuple's prefixes, and the policy rule it belongs to. Its counter is that
/// rule's counter for these packets.
/// </summary>
public sealed record TupleElement(NftTuple Tuple, string Interface, byte Protocol, ushort Port, UInt128 Address, string RuleId);
