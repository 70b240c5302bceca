namespace ArcBox.Policy.Model;

/// <summary>Every public address: not the ArcBox network, the host, private, loopback, link-local or multicast ranges.</summary>
public sealed record InternetTarget : Target
{
    public override string ToString() => "internet";
}
