using System.Net;
using ArcBox.Policy.Model;

namespace ArcBox.Policy.Parsing;

/// <summary>Validation of DNS names and "*.suffix" patterns (RFC 1035 lengths, LDH labels; '_' allowed for service names).</summary>
public static class DomainNames
{
    public const int MaxNameLength = 253;
    public const int MaxLabelLength = 63;

    /// <param name="requireQualified">Egress domains must have at least two labels, and a wildcard may not cover a whole TLD.</param>
    public static bool TryParsePattern(string text, bool requireQualified, out DomainPattern pattern, out string error)
    {
        pattern = null!;
        var name = text.Trim();
        var wildcard = name.StartsWith("*.", StringComparison.Ordinal);
        if (wildcard)
        {
            name = name[2..];
        }

        if (name.Contains('*', StringComparison.Ordinal))
        {
            error = $"invalid domain pattern '{text}': '*' is allowed only as the whole first label, as in *.example.com";
            return false;
        }

        if (!TryValidateName(name, out error))
        {
            error = $"invalid domain pattern '{text}': {error}";
            return false;
        }

        var normalized = DomainPattern.Normalize(name);
        if (IPAddress.TryParse(normalized, out _) || normalized.Split('.')[^1].All(char.IsAsciiDigit))
        {
            error = $"invalid domain pattern '{text}': this is an address, not a name; put addresses in 'to'";
            return false;
        }

        if (requireQualified && !normalized.Contains('.', StringComparison.Ordinal))
        {
            error = wildcard
                ? $"invalid domain pattern '{text}': a wildcard may not cover a whole top-level domain"
                : $"invalid domain pattern '{text}': use a fully qualified name such as example.com";
            return false;
        }

        pattern = new DomainPattern(normalized, wildcard);
        return true;
    }

    /// <summary>Checks a plain name (no wildcard); a single trailing dot is allowed.</summary>
    public static bool TryValidateName(string name, out string error)
    {
        var n = name.EndsWith('.') ? name[..^1] : name;
        if (n.Length == 0)
        {
            error = "the name is empty";
            return false;
        }

        if (n.Length > MaxNameLength)
        {
            error = $"the name is {n.Length} characters long; the maximum is {MaxNameLength}";
            return false;
        }

        foreach (var label in n.Split('.'))
        {
            if (label.Length == 0)
            {
                error = "empty label (two dots in a row, or a leading dot)";
                return false;
            }

            if (label.Length > MaxLabelLength)
            {
                error = $"label '{label[..16]}...' is {label.Length} characters long; the maximum is {MaxLabelLength}";
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                {
                    error = $"character '{c}' is not allowed in label '{label}'";
                    return false;
                }
            }

            if (label[0] == '-' || label[^1] == '-')
            {
                error = $"label '{label}' starts or ends with '-'";
                return false;
            }
        }

        error = "";
        return true;
    }
}
