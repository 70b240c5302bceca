namespace ArcBox.Linux.Netlink;

/// <summary>One netlink attribute as <see cref="Attributes"/> yields it: its type (flags masked off) and payload.</summary>
internal readonly ref struct Attribute(ushort type, ReadOnlySpan<byte> value)
{
    private readonly ReadOnlySpan<byte> value = value;

    public void Deconstruct(out ushort t, out ReadOnlySpan<byte> v)
    {
        t = type;
        v = value;
    }
}
