using System.Text;
using ArcBox.Netfilter.Compiler;
using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Netfilter.Rendering;

/// <summary>
/// The same semantics as iptables-restore input, for users who read or run iptables. IPv4 only, and linear:
/// every packet walks the dispatch rules one sandbox at a time, which is why ArcBox itself uses nftables.
/// </summary>
public static partial class IptablesRenderer
{
    private const int MultiportMax = 15;

    public static string Render(NetworkConfig network, SandboxIdentity sandbox, SandboxPolicy policy)
    {
        var r = new Writer(network, sandbox, policy);
        r.Header();
        r.Raw();
        r.Nat();
        r.Filter();
        return r.ToString();
    }

    private sealed partial class Writer(NetworkConfig network, SandboxIdentity sandbox, SandboxPolicy policy)
    {
        private readonly StringBuilder text = new();
        private readonly string ours = network.Prefix + "-+";
        private readonly string ifname = sandbox.Interface;

        private string OutChain => ifname + "-OUT";

        private string InChain => ifname + "-IN";

        private string HostChain => ifname + "-HOST";

        private string HostInChain => ifname + "-HOSTIN";

        public override string ToString() => text.ToString();

        private void Line(string line) => text.Append(string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries))).Append('\n');

        public void Header()
        {
            Line($"# ArcBox policy for sandbox '{sandbox.Name}' ({ifname}, {sandbox.Ipv4}, {sandbox.Mac}) as iptables-restore input.");
            Line("# IPv4 only; loading it with iptables-restore replaces the raw, nat and filter tables.");
            foreach (var rule in policy.Outbound.Where(r => !r.Domains.IsEmpty))
            {
                Line($"# {rule.Id}: its domains need addresses learnt by the ArcBox resolver; iptables has no equivalent here.");
            }
        }

        public void Raw()
        {
            Line("*raw");
            Line(":PREROUTING ACCEPT [0:0]");
            Line(":OUTPUT ACCEPT [0:0]");
            Line(":ARCBOX-GUARD - [0:0]");
            Line($"-A PREROUTING -i {ours} -j ARCBOX-GUARD");
            Line("-A ARCBOX-GUARD -p udp --sport 67 -j DROP");
            Line("-A ARCBOX-GUARD -p icmp --icmp-type redirect -j DROP");

            // iptables has no match for single IPv4 options: every header longer than 20 bytes goes.
            Line("-A ARCBOX-GUARD -m u32 --u32 \"0>>22&0x3C=24:60\" -m comment --comment \"IPv4 options (source and record route)\" -j DROP");
            Line($"-A ARCBOX-GUARD -i {ifname} -s {sandbox.Ipv4}/32 -m mac --mac-source {sandbox.Mac} -j RETURN");
            Line("-A ARCBOX-GUARD -m comment --comment \"spoofed or unknown interface\" -j DROP");
            Line("COMMIT");
        }

        public void Nat()
        {
            Line("*nat");
            Line(":PREROUTING ACCEPT [0:0]");
            Line(":INPUT ACCEPT [0:0]");
            Line(":OUTPUT ACCEPT [0:0]");
            Line(":POSTROUTING ACCEPT [0:0]");
            foreach (var p in new[] { "udp", "tcp" })
            {
                Line($"-A PREROUTING -i {ours} -p {p} --dport 53 -j DNAT --to-destination {network.Gateway4}");
            }

            var egress = network.Uplink is { } uplink ? $"-o {uplink}" : $"! -o {ours}";
            Line($"-A POSTROUTING -s {network.Subnet4} {egress} -j MASQUERADE");
            Line("COMMIT");
        }

        public void Filter()
        {
            var hostIn = policy.Inbound.Any(r => r.Targets.Contains(Target.Host));
            Line("*filter");
            Line(":INPUT ACCEPT [0:0]");
            Line(":FORWARD ACCEPT [0:0]");
            Line(":OUTPUT ACCEPT [0:0]");
            foreach (var chain in new[] { "ARCBOX-FROM-SANDBOX", "ARCBOX-TO-SANDBOX", "ARCBOX-DELIVER", "ARCBOX-TO-HOST", "ARCBOX-FROM-HOST", OutChain, InChain, HostChain })
            {
                Line($":{chain} - [0:0]");
            }

            if (hostIn)
            {
                Line($":{HostInChain} - [0:0]");
            }

            var internetChains = InternetChains().ToList();
            foreach (var (chain, _, _, _) in internetChains)
            {
                Line($":{chain} - [0:0]");
            }

            Line($"-A FORWARD -i {ours} -j ARCBOX-FROM-SANDBOX");
            Line($"-A FORWARD -o {ours} -j ARCBOX-TO-SANDBOX");
            Line($"-A INPUT -i {ours} -j ARCBOX-TO-HOST");
            Line($"-A OUTPUT -o {ours} -j ARCBOX-FROM-HOST");
            // From the sandbox, RELATED only for its own connections; from the host, ICMP errors only about admitted ones.
            foreach (var chain in new[] { "ARCBOX-FROM-SANDBOX", "ARCBOX-TO-HOST" })
            {
                Line($"-A {chain} -m conntrack --ctstate ESTABLISHED -j ACCEPT");
                Line($"-A {chain} -i {ifname} -m conntrack --ctstate RELATED --ctdir ORIGINAL --ctorigsrc {sandbox.Ipv4}/32 -j ACCEPT");
                Line($"-A {chain} -i {ifname} -m conntrack --ctstate RELATED --ctdir REPLY --ctreplsrc {sandbox.Ipv4}/32 -j ACCEPT");
                Line($"-A {chain} -m conntrack --ctstate RELATED,INVALID -j DROP");
            }

            Line("-A ARCBOX-FROM-HOST -p icmp --icmp-type redirect -j DROP");
            foreach (var type in new[] { "destination-unreachable", "time-exceeded", "parameter-problem" })
            {
                Line($"-A ARCBOX-FROM-HOST -p icmp --icmp-type {type} -m conntrack ! --ctstatus CONFIRMED -j DROP");
            }

            foreach (var chain in new[] { "ARCBOX-TO-SANDBOX", "ARCBOX-FROM-HOST" })
            {
                Line($"-A {chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
                Line($"-A {chain} -m conntrack --ctstate INVALID -j DROP");
            }

            // Linear dispatch: one rule per sandbox.
            Line($"-A ARCBOX-FROM-SANDBOX -i {ifname} -j {OutChain}");
            Line("-A ARCBOX-FROM-SANDBOX -j DROP");
            Line("-A ARCBOX-TO-SANDBOX -j ARCBOX-DELIVER");
            Line($"-A ARCBOX-DELIVER -o {ifname} -j {InChain}");
            Line($"-A ARCBOX-DELIVER -o {ours} -j DROP");
            Line("-A ARCBOX-DELIVER -j ACCEPT");
            Line($"-A ARCBOX-TO-HOST -i {ifname} -j {HostChain}");
            Line("-A ARCBOX-TO-HOST -j DROP");
            if (hostIn)
            {
                Line($"-A ARCBOX-FROM-HOST -o {ifname} -j {HostInChain}");
            }

            Line("-A ARCBOX-FROM-HOST -j DROP");

            foreach (var (chain, addr, verdict, excluded) in internetChains)
            {
                foreach (var range in excluded)
                {
                    Line($"-A {chain} {addr} {range} -j RETURN");
                }

                Line($"-A {chain} -j {verdict}");
            }

            WriteRules(policy.Outbound, OutChain, HostChain, "ARCBOX-DELIVER");
            Deny(OutChain, "out");
            Deny(HostChain, "out");
            WriteRules(policy.Inbound, InChain, hostIn ? HostInChain : null, "ACCEPT");
            Deny(InChain, "in");
            if (hostIn)
            {
                Deny(HostInChain, "in");
            }

            Line("COMMIT");
        }
    }
}
