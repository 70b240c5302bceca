using System.Globalization;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Forwards;

namespace ArcBox.Cli.Commands.Forward;

/// <summary>
/// Parses "HOSTADDR:PORT SANDBOX:PORT", also written "HOSTADDR:PORT => SANDBOX:PORT". An unquoted => is a shell
/// redirection, so it arrives either inside one quoted argument or as its own quoted word.
/// </summary>
public static class ForwardSpec
{
    public static ForwardRequest Parse(IEnumerable<string> words, bool udp)
    {
        var text = string.Join(' ', words).Replace("=>", " ", StringComparison.Ordinal);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
        {
            throw CliException.Usage("expected HOSTADDR:PORT SANDBOX:PORT, such as localhost:8080 web:3000 (or 'localhost:8080 => web:3000' quoted)");
        }

        var (host, hostPort) = Host(parts[0]);
        var colon = parts[1].LastIndexOf(':');
        if (colon <= 0)
        {
            throw CliException.Usage($"'{parts[1]}': expected SANDBOX:PORT, such as web:3000");
        }

        return new ForwardRequest(host, hostPort, parts[1][..colon], Port(parts[1][(colon + 1)..], parts[1]), udp ? "udp" : "tcp");
    }

    /// <summary>"localhost:8080", "0.0.0.0:8080", "[::]:8080", "198.51.100.1:8080", or a bare port (localhost).</summary>
    public static (string Host, int Port) Host(string text)
    {
        if (text.All(char.IsAsciiDigit))
        {
            return ("localhost", Port(text, text));
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            throw CliException.Usage($"'{text}': expected HOSTADDR:PORT, such as localhost:8080, 0.0.0.0:8080 or [::]:8080");
        }

        return (text[..colon].Trim('[', ']'), Port(text[(colon + 1)..], text));
    }

    private static int Port(string text, string whole) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? port
            : throw CliException.Usage($"'{whole}': the port must be a number 1-65535");
}
