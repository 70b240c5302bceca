using System.Collections.Immutable;

namespace ArcBox.Netfilter.Wire;

/// <summary>One nf_tables netlink message of a batch, in the table of <see cref="Family"/> ("inet" or "arp").</summary>
public abstract record WireOperation(string Family);

/// <summary>
/// NFT_MSG_NEWSET: a set without data (KeyType is nft's datatype id: 7 ipv4_addr, 8 ipv6_addr; a concatenation's id
/// packs its fields' ids 6 bits each, first field highest; a hash set needs no field lengths, and the kernel refuses
/// them without the interval sets' NFT_SET_CONCAT). <paramref name="Counter"/> gives every element a counter
/// (NFTA_SET_EXPR). <paramref name="HostOrderKey"/>: the key is in host byte order (an interface name alone), which
/// `nft list` must know to print it.
/// </summary>
public sealed record WireAddSet(string Family, string Name, uint KeyType, uint KeyLength, uint Flags, bool Counter = false, bool HostOrderKey = false) : WireOperation(Family)
{
    public const uint FlagTimeout = 0x10;
}

public sealed record WireDeleteSet(string Family, string Name) : WireOperation(Family);

public sealed record WireAddChain(string Family, string Name) : WireOperation(Family);

/// <summary>NFT_MSG_DELRULE without a handle: every rule of the chain.</summary>
public sealed record WireFlushChain(string Family, string Name) : WireOperation(Family);

public sealed record WireDeleteChain(string Family, string Name) : WireOperation(Family);

/// <summary>NFT_MSG_NEWRULE appended to a chain, with its comment as libnftnl user data.</summary>
public sealed record WireAddRule(string Family, string Chain, ImmutableArray<NftExpression> Expressions, string? Comment) : WireOperation(Family);

/// <summary>NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM for one set. <paramref name="Echo"/> asks the kernel to report
/// what it did (NLM_F_ECHO): for a delete, each element with its last counter.</summary>
public sealed record WireElements(string Family, string Set, bool Delete, ImmutableArray<WireElement> Elements, bool Echo = false) : WireOperation(Family);

/// <summary>A set element: its key, for a map its data (bytes or a verdict), and an optional timeout.</summary>
public sealed record WireElement(ImmutableArray<byte> Key, ImmutableArray<byte>? Data = null, Verdict? VerdictData = null, ulong? TimeoutMilliseconds = null);
