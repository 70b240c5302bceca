using System.Text;
using CsCheck;

namespace ArcBox.Testing;

/// <summary>Random valid policies as YAML text, so that parser, evaluator and compiler see them as users write them.</summary>
public static class PolicyGenerator
{
    public static readonly string[] SandboxNames = ["alpha", "beta", "gamma"];

    private static readonly string[] Cidrs4 =
    [
        "203.0.113.0/24", "198.51.100.7", "192.0.2.0/25", "10.0.0.0/24", "10.0.0.3", "192.168.0.0/16",
        "172.16.0.0/12", "0.0.0.0/0", "169.254.169.254", "100.64.0.0/10",
    ];

    private static readonly string[] Cidrs6 = ["2001:db8::/32", "2001:db8:1::7", "fd00::/64", "::/0"];

    private static readonly string[] Domains = ["pypi.org", "*.example.com", "files.pythonhosted.org"];

    private static readonly Gen<string> Port = Gen.Frequency(
        (4, Gen.OneOfConst("22", "53", "80", "443", "8080", "5432")),
        (2, Gen.Int[1, 65535].Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (2, Gen.Select(Gen.Int[1, 65000], Gen.Int[0, 500], (a, n) => $"\"{a}-{a + n}\"")));

    private static Gen<string> Target(bool ipv6) => Gen.Frequency(
        (3, Gen.OneOfConst("internet", "network", "host")),
        (3, Gen.OneOfConst(SandboxNames).Select(n => "sandbox:" + n)),
        (4, Gen.OneOfConst(Cidrs4)),
        (ipv6 ? 2 : 0, Gen.OneOfConst(Cidrs6)));

    private static Gen<string> Rule(bool outbound, bool ipv6, bool allowDomains) =>
        Gen.Select(
            Gen.OneOfConst<string?>(null, "tcp", "udp", "icmp", "any"),
            Port.Array[0, 4],
            Target(ipv6).Array[0, 3],
            Gen.Bool,
            Gen.OneOfConst(Domains).Array[1, 2],
            (protocol, ports, targets, withDomains, domains) =>
            {
                var sb = new StringBuilder("    - ");
                var first = true;
                void Key(string text)
                {
                    sb.Append(first ? "" : "      ").Append(text).Append('\n');
                    first = false;
                }

                if (protocol is not null)
                {
                    Key($"protocol: {protocol}");
                }

                if (protocol != "icmp" && ports.Length == 1)
                {
                    Key($"port: {ports[0]}");
                }
                else if (protocol != "icmp" && ports.Length > 1)
                {
                    Key($"ports: [{string.Join(", ", ports)}]");
                }

                if (targets.Length > 0)
                {
                    Key($"{(outbound ? "to" : "from")}: [{string.Join(", ", targets.Distinct())}]");
                }

                if (outbound && allowDomains && withDomains)
                {
                    Key($"domains: [{string.Join(", ", domains.Distinct().Select(d => $"\"{d}\""))}]");
                }

                if (first)
                {
                    Key("protocol: any");
                }

                return sb.ToString();
            });

    /// <summary>A policy with up to <paramref name="maxRules"/> rules each way.</summary>
    public static Gen<string> Yaml(bool ipv6 = false, bool allowDomains = true, int maxRules = 5) =>
        Gen.Select(
            Rule(true, ipv6, allowDomains).Array[0, maxRules],
            Rule(false, ipv6, false).Array[0, maxRules],
            Gen.OneOfConst("denied", "all", "none"),
            (outbound, inbound, log) =>
            {
                var sb = new StringBuilder("network:\n");
                if (outbound.Length > 0)
                {
                    sb.Append("  outbound:\n");
                    foreach (var r in outbound)
                    {
                        sb.Append(r);
                    }
                }

                if (inbound.Length > 0)
                {
                    sb.Append("  inbound:\n");
                    foreach (var r in inbound)
                    {
                        sb.Append(r);
                    }
                }

                sb.Append($"  log: {log}\n");
                return sb.ToString();
            });
}
