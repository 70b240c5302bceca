namespace ArcBox.Netfilter.Tests.Wire;

/// <summary>One attribute (struct nlattr) of a parsed message: a payload, or (NLA_F_NESTED) the attributes it holds.</summary>
public sealed class Nlattr(ushort type, byte[]? value, List<Nlattr>? children)
{
    public const ushort NLA_F_NESTED = 0x8000;

    /// <summary>The type with its flag bits, as written.</summary>
    public ushort Type { get; } = type;

    public ushort Kind => (ushort)(Type & 0x3fff);

    public byte[]? Value { get; set; } = value;

    public List<Nlattr>? Children { get; } = children;

    public List<Nlattr> Nested => Children ?? throw new InvalidOperationException($"attribute {Kind} is not nested");

    public Nlattr Child(ushort kind) => Nested.Single(a => a.Kind == kind);

    public string Text => System.Text.Encoding.UTF8.GetString(Value ?? throw new InvalidOperationException($"attribute {Kind} is nested")).TrimEnd('\0');
}
