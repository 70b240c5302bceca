namespace ArcBox.Policy.Model;

/// <summary><c>sandbox:NAME</c>: the addresses of the named sandbox, whenever it exists.</summary>
public sealed record SandboxTarget(string Name) : Target
{
    public override string ToString() => "sandbox:" + Name;
}
