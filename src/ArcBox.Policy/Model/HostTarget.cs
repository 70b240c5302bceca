namespace ArcBox.Policy.Model;

/// <summary>The host itself, by any of its addresses. Only this target ever matches the host.</summary>
public sealed record HostTarget : Target
{
    public override string ToString() => "host";
}
