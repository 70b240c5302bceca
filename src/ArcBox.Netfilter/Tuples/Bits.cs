using System.Net;
using System.Net.Sockets;

namespace ArcBox.Netfilter.Tuples;

/// <summary>
/// Addresses and ports as unsigned integers of a fixed width (32 or 128 bits, 16 for ports), and inclusive ranges of
/// them cut into aligned prefix blocks: the form in which a hash map of masked keys can hold a CIDR or a port range.
/// </summary>
public static class Bits
{
    public static int Width(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    public static UInt128 Max(int width) => width == 128 ? UInt128.MaxValue : (UInt128.One << width) - 1;

    public static UInt128 Of(IPAddress address)
    {
        UInt128 value = 0;
        foreach (var b in address.GetAddressBytes())
        {
            value = (value << 8) | b;
        }

        return value;
    }

    public static IPAddress Address(UInt128 value, int width)
    {
        var bytes = new byte[width / 8];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }

    /// <summary>The first and last address of a network.</summary>
    public static (UInt128 First, UInt128 Last) Range(IPNetwork network)
    {
        var width = Width(network.BaseAddress.AddressFamily);
        var first = Of(network.BaseAddress);
        return (first, first | HostMask(width, network.PrefixLength));
    }

    /// <summary>The last address of the block (value, prefix). Shifts of UInt128 wrap at 128, so never shift by width.</summary>
    public static UInt128 Last(UInt128 value, int width, int prefix) => value | HostMask(width, prefix);

    /// <summary>The value with its low width-prefix bits cleared.</summary>
    public static UInt128 Mask(UInt128 value, int width, int prefix) => value & ~HostMask(width, prefix) & Max(width);

    /// <summary>
    /// The fewest aligned blocks (value, prefix length) that cover first..last exactly, in order: 1024-65535 becomes
    /// six blocks, 0-65535 one block of prefix 0.
    /// </summary>
    public static IEnumerable<(UInt128 Value, int Prefix)> Blocks(UInt128 first, UInt128 last, int width)
    {
        while (true)
        {
            // The shortest prefix at which `first` is aligned and the block still ends at or before `last`.
            var prefix = 0;
            while (prefix < width && ((first & HostMask(width, prefix)) != 0 || (first | HostMask(width, prefix)) > last))
            {
                prefix++;
            }

            yield return (first, prefix);
            var end = first | HostMask(width, prefix);
            if (end >= last)
            {
                yield break;
            }

            first = end + 1;
        }
    }

    private static UInt128 HostMask(int width, int prefix) => prefix >= width ? 0 : Max(width - prefix);
}
