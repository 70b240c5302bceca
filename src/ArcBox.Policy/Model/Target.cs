namespace ArcBox.Policy.Model;

/// <summary>What a rule's <c>to</c> or <c>from</c> names.</summary>
public abstract record Target
{
    public static readonly Target Host = new HostTarget();
    public static readonly Target Internet = new InternetTarget();
    public static readonly Target Network = new NetworkTarget();
}
