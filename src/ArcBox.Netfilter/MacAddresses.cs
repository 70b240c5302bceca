using System.Security.Cryptography;
using System.Text;

namespace ArcBox.Netfilter;

/// <summary>Sandbox MACs: derived from network prefix and sandbox name, unicast and locally administered.</summary>
public static class MacAddresses
{
    public static string For(string prefix, string sandbox)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(prefix + "/" + sandbox));

        // Bit 0 of the first octet clear: unicast. Bit 1 set: locally administered.
        hash[0] = (byte)((hash[0] & 0xFC) | 0x02);
        return string.Join(':', hash.Take(6).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    public static bool IsValid(string mac) =>
        mac.Length == 17 && mac.Split(':').All(p => p.Length == 2 && p.All(char.IsAsciiHexDigit));
}
