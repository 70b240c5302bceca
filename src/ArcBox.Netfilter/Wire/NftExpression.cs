using System.Collections.Immutable;

namespace ArcBox.Netfilter.Wire;

/// <summary>
/// One nf_tables expression of a rule as the kernel receives it (linux/netfilter/nf_tables.h). Registers are the
/// legacy 16-byte ones nft uses: 0 is the verdict register, 1 the first data register. A concatenation loads its
/// fields into consecutive 4-byte units from register 1, numbered as nft does (<see cref="Registers.At"/>).
/// </summary>
public abstract record NftExpression;

public static class Registers
{
    public const uint Reg1 = 1;

    /// <summary>
    /// The register of the 4-byte unit <paramref name="unit"/> after the start of register 1, as nft numbers it: a
    /// 16-byte register (1-4) where the unit starts one, else a 32-bit register (NFT_REG32_00 is 8).
    /// </summary>
    public static uint At(int unit) => unit % 4 == 0 ? (uint)(1 + (unit / 4)) : (uint)(8 + unit);
}

/// <summary>meta load KEY => reg (NFT_META_*: 6 iifname, 7 oifname, 15 nfproto, 16 l4proto).</summary>
public sealed record MetaLoad(uint Key, uint Register = Registers.Reg1) : NftExpression
{
    public const uint IifName = 6;
    public const uint OifName = 7;
    public const uint NfProto = 15;
    public const uint L4Proto = 16;
}

/// <summary>payload load LEN bytes @ BASE header + OFFSET => reg 1 (bases: 1 network, 2 transport).</summary>
public sealed record PayloadLoad(uint Base, uint Offset, uint Length, uint Register = Registers.Reg1) : NftExpression
{
    public const uint Network = 1;
    public const uint Transport = 2;
}

/// <summary>cmp OP reg 1 DATA (NFT_CMP_*: 0 eq, 3 lte, 5 gte).</summary>
public sealed record Compare(uint Op, ImmutableArray<byte> Data) : NftExpression
{
    public const uint Eq = 0;
    public const uint Lte = 3;
    public const uint Gte = 5;
}

/// <summary>bitwise reg = (reg &amp; MASK) ^ XOR over the mask's length.</summary>
public sealed record Bitwise(ImmutableArray<byte> Mask, ImmutableArray<byte> Xor, uint Register = Registers.Reg1) : NftExpression;

/// <summary>lookup the key starting at reg 1 in a named set; Invert is NFT_LOOKUP_F_INV ("!= @set").</summary>
public sealed record Lookup(string Set, bool Invert) : NftExpression;

public sealed record CounterExpr : NftExpression;

/// <summary>limit rate N per unit (seconds) with a burst, counting packets.</summary>
public sealed record Limit(ulong Rate, ulong UnitSeconds, uint Burst) : NftExpression;

/// <summary>log to an NFLOG group with a prefix.</summary>
public sealed record Log(string Prefix, ushort Group) : NftExpression;

/// <summary>immediate reg 0 VERDICT (NF_DROP 0, NF_ACCEPT 1, NFT_JUMP -3, NFT_GOTO -4, NFT_RETURN -5).</summary>
public sealed record Verdict(int Code, string? Chain = null) : NftExpression
{
    public const int Drop = 0;
    public const int Accept = 1;
    public const int Jump = -3;
    public const int Goto = -4;
    public const int Return = -5;
}
