namespace ArcBox.Policy.Model;

/// <summary>
/// An exact name ("pypi.org") or a wildcard ("*.example.com"). A wildcard matches names below
/// the suffix at any depth, never the suffix itself. Names are stored lower-case without a trailing dot.
/// </summary>
public sealed record DomainPattern(string Suffix, bool IsWildcard)
{
    public bool Matches(string name)
    {
        var n = Normalize(name);
        if (!IsWildcard)
        {
            return string.Equals(n, Suffix, StringComparison.Ordinal);
        }

        return n.Length > Suffix.Length + 1
            && n.EndsWith(Suffix, StringComparison.Ordinal)
            && n[n.Length - Suffix.Length - 1] == '.';
    }

    public static string Normalize(string name) => name.TrimEnd('.').ToLowerInvariant();

    public override string ToString() => IsWildcard ? "*." + Suffix : Suffix;
}
