using System.Security.Cryptography;
using System.Text;

namespace ArcBox.Netfilter;

/// <summary>
/// Host-side interface names: "PREFIX-NAME" when that fits IFNAMSIZ (15 characters), else the name cut short
/// plus 7 base32 characters of its hash. Deterministic, so that rules can name a sandbox that does not exist yet.
/// </summary>
public static class InterfaceNames
{
    public const int MaxLength = 15;
    private const int HashLength = 7;
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    public static string For(string prefix, string sandbox)
    {
        var room = MaxLength - prefix.Length - 1;
        if (sandbox.Length <= room)
        {
            return $"{prefix}-{sandbox}";
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(sandbox));
        var suffix = new StringBuilder(HashLength);
        ulong bits = BitConverter.ToUInt64(hash, 0);
        for (var i = 0; i < HashLength; i++)
        {
            suffix.Append(Base32[(int)(bits & 31)]);
            bits >>= 5;
        }

        return $"{prefix}-{sandbox[..(room - HashLength)]}{suffix}";
    }

    /// <summary>The IFB that shapes a sandbox's upload: its link name with a '.' after the prefix. It never
    /// matches our "PREFIX-*" rules (it carries no sandbox traffic of its own) and never clashes with a link.</summary>
    public static string Ifb(string prefix, string link) => $"{prefix}.{link[(prefix.Length + 1)..]}";
}
