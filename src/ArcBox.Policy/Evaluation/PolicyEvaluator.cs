using System.Net.Sockets;
using ArcBox.Policy.Model;

namespace ArcBox.Policy.Evaluation;

/// <summary>
/// The reference semantics of a policy: pure, and the oracle that every kernel test compares against.
/// Rules only allow; the first matching rule in file order decides, else the default deny.
/// </summary>
public static class PolicyEvaluator
{
    public static Decision Evaluate(SandboxPolicy policy, SandboxAddresses self, NetworkView network, Flow flow)
    {
        if (flow.Protocol == Protocol.Any)
        {
            throw new ArgumentException("a flow has a concrete protocol: tcp, udp or icmp", nameof(flow));
        }

        // An IPv4-only network drops every IPv6 packet of a sandbox.
        if (flow.Peer.AddressFamily == AddressFamily.InterNetworkV6 && (!network.DualStack || self.Ipv6 is null))
        {
            return Decision.DefaultDeny;
        }

        if (flow.Direction == Direction.Outbound && flow.Protocol is Protocol.Tcp or Protocol.Udp && flow.Port == 53)
        {
            // Every DNS packet goes to the ArcBox resolver whatever its destination: the port decides.
            return policy.DnsRule(flow.Protocol) is { } dns ? new Decision(true, dns.Id) : Decision.DefaultDeny;
        }

        var peer = network.Classify(flow.Peer);
        foreach (var rule in policy.Rules(flow.Direction))
        {
            if (rule.MatchesService(flow.Protocol, flow.Port) && PeerMatches(rule, peer, flow))
            {
                return new Decision(true, rule.Id);
            }
        }

        return Decision.DefaultDeny;
    }

    /// <summary>
    /// Sandbox to sandbox needs both sides: the sender's outbound and then the receiver's inbound.
    /// </summary>
    public static (Decision Sender, Decision Receiver) EvaluateBetween(
        SandboxPolicy senderPolicy, string senderName, SandboxPolicy receiverPolicy, string receiverName, NetworkView network, Protocol protocol, int port, bool ipv6 = false)
    {
        var sender = network.Sandboxes[senderName];
        var receiver = network.Sandboxes[receiverName];
        var to = ipv6 ? receiver.Ipv6 : receiver.Ipv4;
        var from = ipv6 ? sender.Ipv6 : sender.Ipv4;
        if (to is null || from is null)
        {
            return (Decision.DefaultDeny, Decision.DefaultDeny);
        }

        var outbound = Evaluate(senderPolicy, sender, network, new Flow(Direction.Outbound, protocol, to, port));
        var inbound = outbound.Allowed && !(protocol != Protocol.Icmp && port == 53)
            ? Evaluate(receiverPolicy, receiver, network, new Flow(Direction.Inbound, protocol, from, port))
            : Decision.DefaultDeny;
        return (outbound, inbound);
    }

    private static bool PeerMatches(Rule rule, AddressClass peer, Flow flow)
    {
        foreach (var target in rule.Targets)
        {
            var match = target switch
            {
                HostTarget => peer.Kind == AddressKind.Host,
                InternetTarget => peer.Kind == AddressKind.Internet,
                NetworkTarget => peer.Kind is AddressKind.Sandbox or AddressKind.Network,
                SandboxTarget s => peer.Kind == AddressKind.Sandbox && peer.Sandbox == s.Name,

                // Only 'host' ever names the host: a CIDR that covers a host address does not open it.
                CidrTarget c => peer.Kind != AddressKind.Host && Parsing.Addresses.Contains(c.Cidr, flow.Peer)
                    && (!AddressRanges.IsGuarded(flow.Peer) || AddressRanges.NamesGuarded(c.Cidr)),
                _ => false,
            };
            if (match)
            {
                return true;
            }
        }

        // Addresses learnt from DNS are admitted only when public (no DNS rebinding into private ranges).
        return flow.Domain is { } domain && peer.Kind == AddressKind.Internet && rule.Domains.Any(d => d.Matches(domain));
    }
}
