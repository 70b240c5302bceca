namespace ArcBox.Policy.Model;

/// <summary>An inclusive port range; a single port has <see cref="First"/> == <see cref="Last"/>.</summary>
public readonly record struct PortRange(int First, int Last)
{
    public bool IsSingle => First == Last;

    public bool Contains(int port) => port >= First && port <= Last;

    public override string ToString() => IsSingle ? First.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{First}-{Last}";
}
