using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using ArcBox.Daemon.Datapath;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Linux.Netlink;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Forwarding;
using ArcBox.Netfilter.Plan;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Forwards;

/// <summary>
/// Port forwards from the host to sandboxes: DNAT elements of the base table's shared maps (the kernel translates),
/// plus a relay for [::1], which the kernel cannot translate. Stored with the sandboxes; a sandbox's forwards go
/// before it does. Changes take the same lock as the lifecycle's, so a forward never targets a half-made sandbox.
/// </summary>
public sealed class ForwardService(NetworkConfig network, StateStore store, IFirewall firewall, RouteNetlink host, ChangeGate gate, Func<SandboxTable> table, ILogger log) : ISandboxObserver, IDisposable
{
    private readonly Dictionary<PortForward, LoopbackRelay> relays = [];
    private ImmutableList<PortForward> forwards = [];

    /// <summary>At start: the stored forwards of sandboxes that exist (the rest were left by a crash between the two
    /// deletes of an rm), whose elements go into the start-up ruleset.</summary>
    public IEnumerable<NftElement> Restore(SandboxTable loading)
    {
        forwards = [.. store.Forwards().Where(f => loading.Contains(f.Sandbox))];
        return [.. forwards.SelectMany(f => ElementsOf(f, loading))];
    }

    /// <summary>A sandbox's forwards go before its rules: none may point at an address about to be freed.</summary>
    public void Removing(Sandbox sandbox, ICollection<string> problems)
    {
        foreach (var forward in forwards.Where(f => f.Sandbox == sandbox.Name).ToList())
        {
            try
            {
                Unforward(forward, table());
            }
            catch (Exception ex) when (ex is NftablesException or RequestException)
            {
                // Its row went with the sandbox's; what the kernel kept is reported.
                problems.Add(ex.Message);
                forwards = forwards.Remove(forward);
                if (relays.Remove(forward, out var relay))
                {
                    relay.Dispose();
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var relay in relays.Values)
        {
            relay.Dispose();
        }
    }

    public IReadOnlyList<PortForward> Forwards() => forwards;

    /// <summary>Adds a forward; "localhost" means both 127.0.0.1 (in the kernel) and, for TCP, [::1] (relayed).</summary>
    public Task<IReadOnlyList<PortForward>> AddForwardAsync(ForwardRequest request, CancellationToken cancellationToken = default) =>
        gate.RunAsync<IReadOnlyList<PortForward>>(
            () =>
            {
                if (request.Host is not (null or "localhost"))
                {
                    return [AddForward(request)];
                }

                var v4 = AddForward(request with { Host = "127.0.0.1" });
                if (ParseProtocol(request.Protocol) == Protocol.Udp)
                {
                    return [v4];
                }

                try
                {
                    return [v4, AddForward(request with { Host = "::1" })];
                }
                catch (RequestException)
                {
                    Unforward(v4);
                    throw;
                }
            },
            cancellationToken);

    public Task<IReadOnlyList<PortForward>> RemoveForwardAsync(string host, int port, string? protocol, CancellationToken cancellationToken = default) =>
        gate.RunAsync<IReadOnlyList<PortForward>>(
            () =>
            {
                if (host != "localhost")
                {
                    return [RemoveForward(ParseHost(host), port, ParseProtocol(protocol))];
                }

                var removed = new List<PortForward> { RemoveForward(IPAddress.Loopback, port, ParseProtocol(protocol)) };
                if (forwards.Any(f => f.HostAddress.Equals(IPAddress.IPv6Loopback) && f.HostPort == port && f.Protocol == ParseProtocol(protocol)))
                {
                    removed.Add(RemoveForward(IPAddress.IPv6Loopback, port, ParseProtocol(protocol)));
                }

                return removed;
            },
            cancellationToken);

    private PortForward AddForward(ForwardRequest request)
    {
        var host = ParseHost(request.Host ?? "localhost");
        var protocol = ParseProtocol(request.Protocol);
        CheckPort(request.HostPort, "host port");
        CheckPort(request.SandboxPort, "sandbox port");
        var target = table().Get(request.Sandbox ?? "").Record;
        var forward = new PortForward(host, request.HostPort, protocol, target.Name, request.SandboxPort);
        var relayed = forward.HostAddress.Equals(IPAddress.IPv6Loopback);
        if (relayed && protocol == Protocol.Udp)
        {
            throw new RequestException(ErrorCode.Invalid, "[::1] forwards are TCP only: IPv6 loopback cannot be translated in the kernel, and the daemon relays only TCP; use 127.0.0.1 for UDP");
        }

        if (forward.IsIPv6 && !relayed && !network.DualStack)
        {
            throw new RequestException(ErrorCode.Invalid, $"{forward.Key}: the network is IPv4-only; forward on an IPv4 address");
        }

        var clash = forwards.FirstOrDefault(f => f.HostPort == forward.HostPort && f.Protocol == forward.Protocol && f.IsIPv6 == forward.IsIPv6
            && (f.HostAddress.Equals(forward.HostAddress) || f.IsAnyAddress || forward.IsAnyAddress));
        if (clash is not null)
        {
            throw new RequestException(ErrorCode.Conflict, $"{forward.Key} is already forwarded ({clash})");
        }

        CheckPortFree(forward);
        var elements = ElementsOf(forward, Sandbox.IdentityOf(target));
        try
        {
            firewall.Elements([], elements);
        }
        catch (NftablesException ex)
        {
            throw new RequestException(ErrorCode.Failure, $"forward {forward}: the kernel refused it, nothing changed: {ex.Message}", inner: ex);
        }

        if (relayed)
        {
            StartRelay(forward, target);
        }

        try
        {
            store.PutForward(forward);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // Out of the kernel again: a forward the state does not hold would vanish at the next start.
            firewall.Elements(elements, []);
            if (relays.Remove(forward, out var relay))
            {
                relay.Dispose();
            }

            throw new RequestException(ErrorCode.Failure, $"forward {forward}: cannot write the state ({ex.Message}); nothing changed", inner: ex);
        }

        forwards = forwards.Add(forward);
        Hosting.Log.Forwarded(log, forward.ToString());
        return forward;
    }

    private PortForward RemoveForward(IPAddress host, int port, Protocol protocol)
    {
        var forward = forwards.FirstOrDefault(f => f.HostAddress.Equals(host) && f.HostPort == port && f.Protocol == protocol)
            ?? throw new RequestException(ErrorCode.NotFound, $"no forward on {new PortForward(host, port, protocol, "", 0).Key}");
        Unforward(forward);
        return forward;
    }

    /// <summary>Takes a forward out of the kernel and the state; its permission stays while another forward needs it.</summary>
    private void Unforward(PortForward forward) => Unforward(forward, table());

    private void Unforward(PortForward forward, SandboxTable of)
    {
        // The state first: if it cannot be written, the forward stays whole.
        try
        {
            store.DeleteForward(forward);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new RequestException(ErrorCode.Failure, $"forward {forward}: cannot write the state ({ex.Message}); nothing changed", inner: ex);
        }

        var remaining = forwards.Remove(forward);
        var elements = ElementsOf(forward, of);
        var stillNeeded = remaining.SelectMany(f => ElementsOf(f, of));
        firewall.Elements(ForwardCompiler.Unshared(elements, stillNeeded), []);
        if (relays.Remove(forward, out var relay))
        {
            relay.Dispose();
        }

        forwards = remaining;
        Hosting.Log.Unforwarded(log, forward.ToString());
    }

    private IReadOnlyList<NftElement> ElementsOf(PortForward f) => ElementsOf(f, table());

    private IReadOnlyList<NftElement> ElementsOf(PortForward f, SandboxTable of) =>
        of.Find(f.Sandbox) is { } s ? ElementsOf(f, s.Identity) : [];

    /// <summary>A relayed [::1] forward needs only the permission for its IPv4 target; the kernel translates the rest.</summary>
    private IReadOnlyList<NftElement> ElementsOf(PortForward f, SandboxIdentity target) =>
        f.HostAddress.Equals(IPAddress.IPv6Loopback)
            ? [new NftElement("inet", ObjectNames.ForwardAllowed4, $"{target.Ipv4} . {f.Protocol4} . {f.SandboxPort}")]
            : ForwardCompiler.Elements(network, f, target);

    private void StartRelay(PortForward f, SandboxRecord target)
    {
        try
        {
            relays[f] = new LoopbackRelay(f.HostPort, new IPEndPoint(target.Ipv4, f.SandboxPort));
        }
        catch (SocketException ex)
        {
            throw new RequestException(ErrorCode.Conflict, $"{f.Key}: cannot listen: {ex.Message}", inner: ex);
        }
    }

    /// <summary>At start, once the sandboxes are wired: the relays of stored [::1] forwards.</summary>
    public void Loaded(SandboxTable loaded)
    {
        foreach (var f in forwards.Where(f => f.HostAddress.Equals(IPAddress.IPv6Loopback)))
        {
            try
            {
                StartRelay(f, loaded.Get(f.Sandbox).Record);
            }
            catch (RequestException ex)
            {
                Hosting.Log.ReconcileProblem(log, ex.Message);
            }
        }
    }

    private static IPAddress ParseHost(string host)
    {
        switch (host)
        {
            case "localhost":
                return IPAddress.Loopback;
        }

        var text = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (!Addresses.TryParseAddress(text, out var address, out var error))
        {
            throw new RequestException(ErrorCode.Invalid, $"host: {error}");
        }

        return address;
    }

    private static Protocol ParseProtocol(string? protocol) => protocol switch
    {
        null or "" or "tcp" => Protocol.Tcp,
        "udp" => Protocol.Udp,
        _ => throw new RequestException(ErrorCode.Invalid, $"protocol must be tcp or udp, not '{protocol}'"),
    };

    private static void CheckPort(int port, string what)
    {
        if (port is < 1 or > 65535)
        {
            throw new RequestException(ErrorCode.Invalid, $"{what} {port} is outside 1-65535");
        }
    }

    /// <summary>A host process that listens on the port would never see its clients again: refuse instead.</summary>
    private void CheckPortFree(PortForward f)
    {
        if (!f.IsAnyAddress && !IPAddress.IsLoopback(f.HostAddress) && !HostNetwork.Addresses(host).Contains(f.HostAddress))
        {
            throw new RequestException(ErrorCode.Invalid, $"{f.HostAddress} is not an address of this host");
        }

        using var probe = new Socket(f.HostAddress.AddressFamily, f.Protocol == Protocol.Udp ? SocketType.Dgram : SocketType.Stream, f.Protocol == Protocol.Udp ? ProtocolType.Udp : ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(f.HostAddress, f.HostPort));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new RequestException(ErrorCode.Conflict, $"{f.Key} is in use by a process on the host", inner: ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new RequestException(ErrorCode.Invalid, $"{f.HostAddress} is not an address of this host", inner: ex);
        }
    }
}
