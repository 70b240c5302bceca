using ArcBox.Policy.Evaluation;
using ArcBox.Policy.Model;

namespace ArcBox.Cli.Infrastructure;

/// <summary>How explain prints a decision, offline and live alike.</summary>
public static class ExplainOutput
{
    public static void Write(bool json, string sandbox, Flow flow, Decision decision, NetworkView view)
    {
        var peerKind = view.Classify(flow.Peer);
        Write(json, sandbox, flow, decision, peerKind.Kind == AddressKind.Sandbox ? $"sandbox:{peerKind.Sandbox}" : peerKind.Kind.ToString().ToLowerInvariant());
    }

    /// <param name="peer">What the peer address is: "internet", "host", "sandbox:NAME", ...</param>
    public static void Write(bool json, string sandbox, Flow flow, Decision decision, string peer)
    {
        if (json)
        {
            Json.Write(new
            {
                sandbox,
                direction = flow.Direction == Direction.Outbound ? "outbound" : "inbound",
                protocol = flow.Protocol.ToString().ToLowerInvariant(),
                peer = flow.Peer.ToString(),
                peerKind = peer,
                port = flow.Protocol == Protocol.Icmp ? (int?)null : flow.Port,
                domain = flow.Domain,
                verdict = decision.Verdict,
                rule = decision.Rule,
            });
            return;
        }

        var what = flow.Direction == Direction.Outbound
            ? $"{sandbox} -> {flow.Peer} ({peer}){Port(flow)}"
            : $"{flow.Peer} ({peer}) -> {sandbox}{Port(flow)}";
        Console.Out.WriteLine($"{decision.Verdict}: {what}");
        Console.Out.WriteLine(decision.Allowed ? $"rule: {decision.RuleId}" : "rule: default (no rule allows it: default deny)");
    }

    private static string Port(Flow flow) =>
        flow.Protocol == Protocol.Icmp ? " icmp" : $" port {flow.Port}/{flow.Protocol.ToString().ToLowerInvariant()}";
}
