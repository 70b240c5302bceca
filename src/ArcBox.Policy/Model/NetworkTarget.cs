namespace ArcBox.Policy.Model;

/// <summary>The whole ArcBox network (its IPv4 and IPv6 subnets), except the host's gateway address.</summary>
public sealed record NetworkTarget : Target
{
    public override string ToString() => "network";
}
