using System.Net;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;

namespace ArcBox.Cli.Infrastructure;

/// <summary>Parses the flow of <c>explain</c>: --to ADDR:PORT/PROTO, or --from ADDR --port PORT/PROTO.</summary>
public static class FlowSpec
{
    public static Flow Parse(string? to, string? from, string? port, string? domain)
    {
        if ((to is null) == (from is null))
        {
            throw CliException.Usage("give either --to ADDR:PORT/PROTO (outbound) or --from ADDR --port PORT/PROTO (inbound)");
        }

        if (to is not null)
        {
            if (port is not null)
            {
                throw CliException.Usage("--port goes with --from; with --to write the port as ADDR:PORT/PROTO");
            }

            var (target, protocol) = SplitProtocol(to, "--to");
            if (protocol == Protocol.Icmp)
            {
                return new Flow(Direction.Outbound, protocol, Address(target, "--to"), 0, NormalizeDomain(domain));
            }

            if (!Addresses.TryParseEndpoint(target, 0, out var endpoint, out var error) || endpoint.Port == 0)
            {
                throw CliException.Usage($"--to: {(error.Length > 0 ? error : $"'{to}' has no port")}: expected ADDR:PORT/PROTO, such as 203.0.113.7:443/tcp or [2001:db8::7]:53/udp");
            }

            return new Flow(Direction.Outbound, protocol, endpoint.Address, endpoint.Port, NormalizeDomain(domain));
        }

        if (domain is not null)
        {
            throw CliException.Usage("--domain applies to outbound flows (--to)");
        }

        var source = Address(from!, "--from");
        if (port is null)
        {
            throw CliException.Usage("--from needs --port PORT/PROTO (or --port icmp)");
        }

        if (port.Equals("icmp", StringComparison.OrdinalIgnoreCase))
        {
            return new Flow(Direction.Inbound, Protocol.Icmp, source, 0);
        }

        var (portText, proto) = SplitProtocol(port, "--port");
        if (proto == Protocol.Icmp)
        {
            return new Flow(Direction.Inbound, proto, source, 0);
        }

        if (!Addresses.TryParsePort(portText, out var number, out var portError))
        {
            throw CliException.Usage($"--port: {portError}");
        }

        return new Flow(Direction.Inbound, proto, source, number);
    }

    private static (string Value, Protocol Protocol) SplitProtocol(string text, string option)
    {
        var slash = text.LastIndexOf('/');
        if (slash < 0)
        {
            return (text, Protocol.Tcp);
        }

        var protocol = text[(slash + 1)..].ToLowerInvariant() switch
        {
            "tcp" => Protocol.Tcp,
            "udp" => Protocol.Udp,
            "icmp" or "icmpv6" => Protocol.Icmp,
            var other => throw CliException.Usage($"{option}: unknown protocol '{other}': expected tcp, udp or icmp"),
        };
        return (text[..slash], protocol);
    }

    private static IPAddress Address(string text, string option)
    {
        var t = text.StartsWith('[') && text.EndsWith(']') ? text[1..^1] : text;
        if (!Addresses.TryParseAddress(t, out var address, out var error))
        {
            throw CliException.Usage($"{option}: {error}");
        }

        return address;
    }

    private static string? NormalizeDomain(string? domain)
    {
        if (domain is null)
        {
            return null;
        }

        if (!DomainNames.TryValidateName(domain, out var error))
        {
            throw CliException.Usage($"--domain: invalid name '{domain}': {error}");
        }

        return DomainPattern.Normalize(domain);
    }
}
