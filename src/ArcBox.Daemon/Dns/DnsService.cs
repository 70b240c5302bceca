using System.Net;
using System.Net.Sockets;
using ArcBox.Daemon.Config;
using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Dns.Lookup;
using ArcBox.Dns.Server;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Policy.Evaluation;

namespace ArcBox.Daemon.Dns;

/// <summary>
/// The embedded resolver on the gateway addresses (UDP and TCP, IPv4 and IPv6): it follows the sandboxes (each
/// one's records and domain allow-lists) and puts the addresses a sandbox resolved for its domains rules into the
/// firewall's sets.
/// </summary>
public sealed class DnsService(NetworkConfig network, DnsSettings settings, IFirewall firewall, Func<SandboxTable> table) : ISandboxObserver, IDisposable
{
    private ResolverServer? resolver;

    public ResolverServer Resolver => resolver ?? throw new InvalidOperationException("the resolver is not running");

    /// <summary>Its query log, or null before it started.</summary>
    public QueryLog? Log => resolver?.Log;

    public void Start()
    {
        var endpoints = new List<IPEndPoint> { new(network.Gateway4, 53) };
        if (network.Gateway6 is { } gw6)
        {
            endpoints.Add(new IPEndPoint(gw6, 53));
        }

        var snapshot = ResolverSnapshot.Create(network.Gateway4, network.Gateway6, table().All().Select(ViewOf), settings.Upstreams);
        resolver = new ResolverServer(endpoints, settings, snapshot, AdmitAsync);
        resolver.Start();
    }

    // The next query sees the change.
    public void Added(Sandbox sandbox) => resolver?.Update(s => s.With(ViewOf(sandbox)));

    public void Changed(Sandbox before, Sandbox after) => Added(after);

    public void Removed(Sandbox sandbox)
    {
        resolver?.Update(s => s.Without(sandbox.Name));
        resolver?.Forget(sandbox.Name);
    }

    public void Dispose() => resolver?.Dispose();

    private static SandboxDnsView ViewOf(Sandbox s) => new(s.Name, new SandboxAddresses(s.Record.Ipv4, s.Record.Ipv6), s.Policy);

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
