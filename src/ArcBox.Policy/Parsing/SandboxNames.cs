using System.Text.RegularExpressions;

namespace ArcBox.Policy.Parsing;

/// <summary>
/// Sandbox names are DNS labels (they become NAME.arcbox.internal): lower-case letters, digits and '-',
/// 1-63 characters, starting with a letter, not ending with '-'. No '_' so that kernel object names built
/// as "sb_NAME_..." split unambiguously.
/// </summary>
public static partial class SandboxNames
{
    public const int MaxLength = 63;

    [GeneratedRegex("^[a-z]([a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid(string name) => Validate(name) is null;

    /// <summary>Null when valid, else a message that names the problem.</summary>
    public static string? Validate(string name)
    {
        if (name.Length == 0)
        {
            return "sandbox name is empty";
        }

        if (name.Length > MaxLength)
        {
            return $"sandbox name '{name}' is {name.Length} characters long; the maximum is {MaxLength}";
        }

        if (!Pattern().IsMatch(name))
        {
            return $"invalid sandbox name '{name}': use lower-case letters, digits and '-', starting with a letter and not ending with '-'";
        }

        return null;
    }
}
