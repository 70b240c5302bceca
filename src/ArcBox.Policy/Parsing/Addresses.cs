using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ArcBox.Policy.Parsing;

/// <summary>
/// Strict address parsing. <see cref="IPAddress.TryParse(string, out IPAddress)"/> alone accepts "10" as 0.0.0.10
/// and "1.2.3" as 1.2.0.3; a policy must say exactly what it means.
/// </summary>
public static class Addresses
{
    public static bool TryParseAddress(string text, out IPAddress address, out string error)
    {
        address = IPAddress.None;
        var t = text.Trim();
        if (t.Contains(':', StringComparison.Ordinal))
        {
            if (t.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(t, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"invalid IPv6 address '{text}'";
                return false;
            }

            address = v6;
            error = "";
            return true;
        }

        var parts = t.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || int.Parse(p, CultureInfo.InvariantCulture) > 255))
        {
            error = $"invalid IPv4 address '{text}': expected four numbers 0-255 separated by dots";
            return false;
        }

        address = IPAddress.Parse(t);
        error = "";
        return true;
    }

    /// <summary>Parses "ADDR/LEN" (or a bare address as a host network). Host bits must be zero.</summary>
    public static bool TryParseNetwork(string text, out IPNetwork network, out string error)
    {
        network = default;
        var t = text.Trim();
        var slash = t.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? t : t[..slash];
        if (!TryParseAddress(addressText, out var address, out error))
        {
            return false;
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (slash >= 0)
        {
            var lengthText = t[(slash + 1)..];
            if (lengthText.Length == 0 || lengthText.Length > 3 || !lengthText.All(char.IsAsciiDigit) || (length = int.Parse(lengthText, CultureInfo.InvariantCulture)) > max)
            {
                error = $"invalid CIDR '{text}': the prefix length must be 0-{max}";
                return false;
            }
        }

        var canonical = new IPNetwork(Mask(address, length), length);
        if (!canonical.BaseAddress.Equals(address))
        {
            error = $"invalid CIDR '{text}': host bits are set; did you mean {canonical}?";
            return false;
        }

        network = canonical;
        error = "";
        return true;
    }

    /// <summary>"ADDR", "ADDR:PORT" or "[V6]:PORT"; the port defaults to <paramref name="defaultPort"/>.</summary>
    public static bool TryParseEndpoint(string text, int defaultPort, out IPEndPoint endpoint, out string error)
    {
        endpoint = null!;
        var t = text.Trim();
        string host = t;
        string? portText = null;
        if (t.StartsWith('['))
        {
            var close = t.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"invalid address '{text}': missing ']'";
                return false;
            }

            host = t[1..close];
            var rest = t[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':'))
                {
                    error = $"invalid address '{text}': expected ':PORT' after ']'";
                    return false;
                }

                portText = rest[1..];
            }
        }
        else if (t.Count(c => c == ':') == 1)
        {
            var colon = t.IndexOf(':', StringComparison.Ordinal);
            host = t[..colon];
            portText = t[(colon + 1)..];
        }

        if (!TryParseAddress(host, out var address, out error))
        {
            return false;
        }

        var port = defaultPort;
        if (portText is not null && !TryParsePort(portText, out port, out error))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, port);
        return true;
    }

    public static bool TryParsePort(string text, out int port, out string error)
    {
        port = 0;
        var t = text.Trim();
        if (t.Length == 0 || t.Length > 6 || !t.All(char.IsAsciiDigit))
        {
            error = $"invalid port '{text}': expected a number 1-65535";
            return false;
        }

        port = int.Parse(t, CultureInfo.InvariantCulture);
        if (port is < 1 or > 65535)
        {
            error = $"port {port} is outside 1-65535";
            return false;
        }

        error = "";
        return true;
    }

    /// <summary>
    /// Bitwise containment, as the kernel matches. <see cref="IPNetwork.Contains"/> refuses IPv4-mapped IPv6
    /// addresses (::ffff:a.b.c.d), which would make ::ffff:0:0/96 match nothing.
    /// </summary>
    public static bool Contains(IPNetwork network, IPAddress address) =>
        network.BaseAddress.AddressFamily == address.AddressFamily && Mask(address, network.PrefixLength).Equals(network.BaseAddress);

    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bitsHere = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bitsHere));
        }

        return new IPAddress(bytes);
    }
}
