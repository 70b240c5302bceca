using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Netfilter.Rendering;
using ArcBox.Policy.Evaluation;

namespace ArcBox.Daemon.Policies;

/// <summary>What a sandbox's policy says: shown as YAML, nft or iptables, and asked about a flow (`explain`). Reads
/// one table for the whole answer, so a sandbox created or removed meanwhile is seen whole or not at all.</summary>
public sealed class PolicyService(NetworkConfig network, RouteNetlink host, Func<SandboxTable> table)
{
    /// <summary>The sandbox's policy as YAML, or compiled (nft: the sandbox's own objects; iptables: the whole view).</summary>
    public string Show(string name, string format)
    {
        var s = table().Get(name);
        return format switch
        {
            "yaml" => s.Record.PolicyYaml.EndsWith('\n') ? s.Record.PolicyYaml : s.Record.PolicyYaml + "\n",
            "nft" => NftRenderer.RenderAdd(network, SandboxCompiler.Compile(network, s.Identity, s.Policy)),
            "iptables" => IptablesRenderer.Render(network, s.Identity, s.Policy),
            _ => throw new RequestException(ErrorCode.Invalid, $"unknown format '{format}': expected yaml, nft or iptables"),
        };
    }

    /// <summary>The decision for <paramref name="flow"/>, and what the peer is on the live network.</summary>
    public (Decision Decision, AddressClass Peer) Explain(string name, Flow flow)
    {
        var current = table();
        var s = current.Get(name);
        var view = View(current);
        return (PolicyEvaluator.Evaluate(s.Policy, new SandboxAddresses(s.Record.Ipv4, s.Record.Ipv6), view, flow), view.Classify(flow.Peer));
    }

    /// <summary>The evaluator's view of the live network: subnets, the host's addresses and every sandbox.</summary>
    private NetworkView View(SandboxTable current)
    {
        var view = network.ToView() with { HostAddresses = [.. HostNetwork.Addresses(host)] };
        foreach (var s in current.All())
        {
            view = view.WithSandbox(s.Name, new SandboxAddresses(s.Record.Ipv4, s.Record.Ipv6));
        }

        return view;
    }
}
