using System.Net;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Linux.Devices;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;

namespace ArcBox.Daemon.Datapath;

/// <summary>
/// The links of one sandbox: a veth whose peer is created inside the sandbox namespace, or a persistent TAP.
/// The host side carries the gateway address and a /32 (/128) route to the sandbox; proxy ARP answers for the
/// subnet, so there is no shared L2 segment and every packet between sandboxes is routed through the host.
/// </summary>
public sealed class SandboxWiring(NetworkConfig network, RouteNetlink host, string namespacePrefix) : ISandboxWiring
{
    public const string SandboxLink = "eth0";

    /// <summary>
    /// Creates the namespace of a sandbox that owns it. Links made in it start from its defaults: no IPv6 on an
    /// IPv4-only network, no duplicate address detection otherwise. Setting the same on the link afterwards took
    /// 0.4 ms, and up to 3 ms at 1,000 sandboxes (disabling IPv6 on a link waits for the rtnl lock).
    /// </summary>
    public void CreateNamespace(SandboxRecord r) => NetworkNamespace.CreateNamed(Path.GetFileName(r.NetnsPath!), NamespaceDefaults).Dispose();

    /// <summary>The same defaults in an existing namespace of the sandbox's own (before its link is made again).</summary>
    public void SetNamespaceDefaults(SandboxRecord r)
    {
        using var ns = NetworkNamespace.Open(r.NetnsPath!);
        foreach (var (key, value) in NamespaceDefaults)
        {
            Sysctl.Set(key, value, ns);
        }
    }

    private (string Key, string Value)[] NamespaceDefaults =>
        [network.DualStack ? ("net.ipv6.conf.default.accept_dad", "0") : ("net.ipv6.conf.default.disable_ipv6", "1")];

    public void Wire(SandboxRecord r)
    {
        using var link = CreateLink(r);
        Configure(r, link);
    }

    /// <summary>
    /// The sandbox's link comes into being: the TAP, or the veth with its peer inside the namespace. Creating a
    /// link waits for the nf_tables commit under way in its namespace (the kernel's netdevice notifier takes the
    /// commit lock), nothing that follows does.
    /// </summary>
    public NewLink CreateLink(SandboxRecord r)
    {
        if (r.Attachment is Attachment.Tap tap)
        {
            TapDevice.CreatePersistent(r.Interface, tap.Uid, tap.Gid);
            return new NewLink(null, null);
        }

        var ns = NetworkNamespace.Open(r.NetnsPath!);
        RouteNetlink? inside = null;
        try
        {
            inside = RouteNetlink.OpenIn(ns);
            if (inside.LinkIndex(SandboxLink) is not null)
            {
                throw new InvalidOperationException($"the namespace {r.NetnsPath} already has a link named {SandboxLink}");
            }

            host.CreateVeth(r.Interface, SandboxLink, ns, r.Mac);
            return new NewLink(ns, inside);
        }
        catch
        {
            inside?.Dispose();
            ns.Dispose();
            throw;
        }
    }

    /// <summary>Addresses, routes and settings of a link <see cref="CreateLink"/> made, both sides; then it is up.</summary>
    public void Configure(SandboxRecord r, NewLink link)
    {
        ConfigureHostSide(r);
        if (link is not { Namespace: { } ns, Inside: { } inside })
        {
            return;
        }

        inside.SetLinkUp("lo");
        var index = inside.LinkIndex(SandboxLink)!.Value;
        // A namespace of our own gave the link these settings by default (CreateNamespace).
        if (network.DualStack && !r.OwnsNamespace)
        {
            Sysctl.Set($"net.ipv6.conf.{SandboxLink}.accept_dad", "0", ns);
        }

        inside.AddAddress(index, SandboxLink, r.Ipv4, network.Subnet4.PrefixLength);
        if (network.DualStack && r.Ipv6 is { } v6)
        {
            // A /128 and a route through the gateway: the sandbox never neighbour-solicits its peers.
            inside.AddAddress(index, SandboxLink, v6, 128, noDad: true);
        }
        else if (!r.OwnsNamespace)
        {
            Sysctl.Set($"net.ipv6.conf.{SandboxLink}.disable_ipv6", "1", ns);
        }

        inside.SetLinkUp(index, SandboxLink);
        inside.AddRoute(IPNetwork.Parse("0.0.0.0/0"), index, SandboxLink, network.Gateway4, onlink: true);
        if (network.DualStack && r.Ipv6 is not null)
        {
            inside.AddRoute(new IPNetwork(network.Gateway6!, 128), index, SandboxLink);
            inside.AddRoute(IPNetwork.Parse("::/0"), index, SandboxLink, network.Gateway6);
        }
    }

    /// <summary>
    /// Bandwidth limits in tc on the host side: the sandbox's download (policy ingress) is a token bucket as the
    /// link's root qdisc; its upload (policy egress) arrives on the link, so everything arriving there is redirected
    /// into an IFB whose root qdisc is the bucket. Idempotent: a rate change replaces the bucket in place; no limit
    /// removes the qdiscs and the IFB.
    /// </summary>
    public void Shape(SandboxRecord r, ArcBox.Policy.Model.Bandwidth? bandwidth)
    {
        var index = host.LinkIndex(r.Interface) ?? throw new KernelException($"get link {r.Interface}", Errno.ENODEV);
        if (bandwidth?.Ingress is { } download)
        {
            host.SetRootShaper(index, r.Interface, (ulong)download.BitsPerSecond);
        }
        else
        {
            host.DeleteRootQdisc(index, r.Interface);
        }

        var ifb = InterfaceNames.Ifb(network.Prefix, r.Interface);
        if (bandwidth?.Egress is { } upload)
        {
            var ifbIndex = host.LinkIndex(ifb);
            var created = ifbIndex is null;
            if (created)
            {
                host.CreateLink(ifb, "ifb");
                ifbIndex = host.LinkIndex(ifb)!.Value;
            }

            // Up every time: a down IFB (left by an attempt that failed half-way) would drop all upload.
            host.SetLinkUp(ifbIndex!.Value, ifb);
            host.SetRootShaper(ifbIndex.Value, ifb, (ulong)upload.BitsPerSecond);

            // The redirect names the IFB by index: made again when the IFB is new, left alone on a rate change
            // (so upload is never unshaped for a moment).
            if (created || !host.HasIngress(index, r.Interface))
            {
                host.RedirectIngress(index, r.Interface, ifbIndex.Value, ifb);
            }
        }
        else
        {
            host.DeleteIngress(index, r.Interface);
            host.DeleteLink(ifb);
        }
    }

    /// <summary>Whether the host side of the sandbox exists.</summary>
    public bool IsWired(SandboxRecord r) => host.LinkIndex(r.Interface) is not null;

    public int? LinkIndex(SandboxRecord r) => host.LinkIndex(r.Interface);

    public void NameProcessNamespace(SandboxRecord r)
    {
        if (r.Attachment is Attachment.Pid pid)
        {
            NetworkNamespace.AttachNamed(Path.GetFileName(pid.Path), pid.Source).Dispose();
        }
    }

    public (int Removed, List<string> Problems) RemoveOrphans(IReadOnlyCollection<(SandboxRecord Record, bool Shaped)> live)
    {
        var removed = 0;
        var problems = new List<string>();
        var interfaces = live.Select(l => l.Record.Interface).ToHashSet(StringComparer.Ordinal);
        interfaces.UnionWith(live.Where(l => l.Shaped).Select(l => InterfaceNames.Ifb(network.Prefix, l.Record.Interface)));
        var ours = host.Links().Where(l =>
            (l.Name.StartsWith(network.Prefix + "-", StringComparison.Ordinal) || (l.Name.StartsWith(network.Prefix + ".", StringComparison.Ordinal) && l.Kind == "ifb"))
            && !interfaces.Contains(l.Name));
        foreach (var link in ours.ToList())
        {
            removed += Try(problems, () => host.DeleteLink(link.Name)) ? 1 : 0;
        }

        var namespaces = live.Where(l => l.Record.NetnsPath is not null).Select(l => Path.GetFileName(l.Record.NetnsPath!)).ToHashSet(StringComparer.Ordinal);
        if (Directory.Exists(NetworkNamespace.NamedDirectory))
        {
            foreach (var name in Directory.GetFiles(NetworkNamespace.NamedDirectory, namespacePrefix + "*").Select(Path.GetFileName).OfType<string>())
            {
                if (!namespaces.Contains(name))
                {
                    removed += Try(problems, () => NetworkNamespace.DeleteNamed(name)) ? 1 : 0;
                }
            }
        }

        return (removed, problems);
    }

    /// <summary>Removes the links (routes and addresses go with them) and the namespace we own; goes on past failures.</summary>
    public List<string> Unwire(SandboxRecord r)
    {
        var errors = new List<string>();
        Try(errors, () => host.DeleteLink(r.Interface));
        Try(errors, () => host.DeleteLink(InterfaceNames.Ifb(network.Prefix, r.Interface)));
        if (r.Attachment.OwnsNamespaceName)
        {
            Try(errors, () => NetworkNamespace.DeleteNamed(Path.GetFileName(r.NetnsPath!)));
        }

        return errors;
    }

    private void ConfigureHostSide(SandboxRecord r)
    {
        var index = host.LinkIndex(r.Interface) ?? throw new KernelException($"get link {r.Interface}", Errno.ENODEV);
        Sysctl.Set($"net.ipv4.conf.{r.Interface}.proxy_arp", "1");

        // Proxy ARP answers after a random delay of up to 0.8 s by default, to let a real owner answer first;
        // on a point-to-point link there is none, and the delay would stall every sandbox's first packet.
        Sysctl.Set($"net.ipv4.neigh.{r.Interface}.proxy_delay", "0");

        // A localhost port forward sends the host's own 127.0.0.1 connections out of this link (then masqueraded
        // to the gateway); the kernel routes a loopback source off-host only where route_localnet is set. The
        // guard drops anything a sandbox sends to 127.0.0.0/8.
        Sysctl.Set($"net.ipv4.conf.{r.Interface}.route_localnet", "1");
        host.AddAddress(index, r.Interface, network.Gateway4, 32, noPrefixRoute: true);
        if (network.DualStack)
        {
            Sysctl.Set($"net.ipv6.conf.{r.Interface}.accept_ra", "0");

            // No duplicate address detection on a point-to-point link: a tentative link-local address would
            // make the first neighbour solicitations of a new sandbox fail for about a second.
            Sysctl.Set($"net.ipv6.conf.{r.Interface}.accept_dad", "0");
            host.AddAddress(index, r.Interface, network.Gateway6!, 128, noDad: true, noPrefixRoute: true);
        }

        host.SetLinkUp(index, r.Interface);
        host.AddRoute(new IPNetwork(r.Ipv4, 32), index, r.Interface);
        if (network.DualStack && r.Ipv6 is { } v6)
        {
            host.AddRoute(new IPNetwork(v6, 128), index, r.Interface);
        }
    }

    /// <summary>A link just made: for a veth, its namespace and a netlink socket inside it, kept for the configuration.</summary>
    public sealed record NewLink(NetworkNamespace? Namespace, RouteNetlink? Inside) : IDisposable
    {
        public void Dispose()
        {
            Inside?.Dispose();
            Namespace?.Dispose();
        }
    }

    private static bool Try(List<string> errors, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception ex) when (ex is KernelException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            errors.Add(ex.Message);
            return false;
        }
    }
}
