using System.Net;
using System.Net.Sockets;
using ArcBox.Dns.Lookup;
using ArcBox.Dns.Server;
using ArcBox.Netfilter.Compiler;
using ArcBox.Policy.Evaluation;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    private ResolverServer? resolver;

    public ResolverServer Resolver => resolver ?? throw new InvalidOperationException("the resolver is not running");

    /// <summary>Starts the resolver on the gateway addresses (UDP and TCP, IPv4 and IPv6).</summary>
    private void StartResolver()
    {
        var endpoints = new List<IPEndPoint> { new(network.Gateway4, 53) };
        if (network.Gateway6 is { } gw6)
        {
            endpoints.Add(new IPEndPoint(gw6, 53));
        }

        resolver = new ResolverServer(endpoints, config.Dns, Snapshot(), AdmitAsync);
        resolver.Start();
    }

    /// <summary>Called after a sandbox was created, removed or got a new policy: the next query sees it.</summary>
    private void RefreshResolver(string name) => resolver?.Update(s =>
        records.TryGetValue(name, out var r)
            ? s.With(new SandboxDnsView(r.Name, new SandboxAddresses(r.Ipv4, r.Ipv6), policies[r.Name]))
            : s.Without(name));

    private ResolverSnapshot Snapshot() => ResolverSnapshot.Create(
        network.Gateway4,
        network.Gateway6,
        records.Values.Select(r => new SandboxDnsView(r.Name, new SandboxAddresses(r.Ipv4, r.Ipv6), policies[r.Name])),
        config.Dns.Upstreams);

    private Task AdmitAsync(string sandbox, IReadOnlyList<Admission> admissions)
    {
        var elements = new List<(string, IPAddress, int)>();
        foreach (var a in admissions)
        {
            var ipv6 = a.Address.AddressFamily == AddressFamily.InterNetworkV6;
            if (ipv6 && !network.DualStack)
            {
                continue;
            }

            elements.Add((SandboxCompiler.DomainSetName(sandbox, a.RuleIndex, a.Rule.Domains, ipv6), a.Address, a.TtlSeconds));
        }

        firewall.Admit(sandbox, elements);
        return Task.CompletedTask;
    }
}
