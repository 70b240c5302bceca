using System.Globalization;

namespace ArcBox.Policy.Model;

/// <summary>A bandwidth rate in bits per second, with the text the user wrote.</summary>
public readonly record struct Rate(long BitsPerSecond, string Text)
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("tbit", 1_000_000_000_000), ("gbit", 1_000_000_000), ("mbit", 1_000_000), ("kbit", 1_000), ("bit", 1),
        ("tbps", 8_000_000_000_000), ("gbps", 8_000_000_000), ("mbps", 8_000_000), ("kbps", 8_000), ("bps", 8),
    ];

    public static readonly long Maximum = 100_000_000_000; // 100gbit: above any link tc shapes here.

    /// <summary>Parses "500kbit", "10mbit", "1gbit" (tc's units; "bps" forms are bytes per second).</summary>
    public static bool TryParse(string text, out Rate rate, out string error)
    {
        rate = default;
        var t = text.Trim().ToLowerInvariant();
        foreach (var (suffix, factor) in Units)
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal))
            {
                continue;
            }

            var number = t[..^suffix.Length];
            if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || number.Length == 0)
            {
                error = $"invalid rate '{text}': expected a number followed by a unit, such as 500kbit, 10mbit or 1gbit";
                return false;
            }

            var bits = value * factor;
            if (bits < 1)
            {
                error = $"invalid rate '{text}': must be greater than zero";
                return false;
            }

            if (bits > Maximum)
            {
                error = $"invalid rate '{text}': above the maximum of 100gbit";
                return false;
            }

            rate = new Rate((long)bits, text.Trim());
            error = "";
            return true;
        }

        error = $"invalid rate '{text}': missing unit; use bit, kbit, mbit, gbit or tbit (or bps, kbps, mbps, gbps for bytes per second)";
        return false;
    }

    public override string ToString() => Text;
}
