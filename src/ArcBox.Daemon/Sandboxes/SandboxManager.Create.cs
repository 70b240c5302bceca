using System.Diagnostics;
using System.Globalization;
using System.Net;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Linux.Namespaces;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Policy.Parsing;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxManager
{
    public Task<SandboxRecord> CreateAsync(CreateRequest request, CancellationToken cancellationToken = default) =>
        Exclusive(() => Create(request), cancellationToken);

    private SandboxRecord Create(CreateRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        var name = request.Name ?? "";
        if (SandboxNames.Validate(name) is { } nameError)
        {
            throw new RequestException(ErrorCode.Invalid, nameError);
        }

        if (records.ContainsKey(name))
        {
            throw new RequestException(ErrorCode.Conflict, $"sandbox '{name}' already exists");
        }

        var ifname = InterfaceNames.For(network.Prefix, name);
        if (interfaces.TryGetValue(ifname, out var clash))
        {
            throw new RequestException(ErrorCode.Conflict, $"sandbox '{name}' would use interface {ifname}, which sandbox '{clash}' has; choose another name");
        }

        var (policyName, policyYaml, policy) = (request.Policy ?? new PolicyInput(null, null, null)).Resolve();
        var (attach, netnsPath, pidSource) = ParseAttach(request.Attach, name);
        var (uid, gid) = ParseTapOwner(request.TapOwner, attach);
        var ipv4 = PickAddress(request.Ipv4);
        var ipv6 = network.Subnet6 is { } s6 ? AddressAllocator.Ipv6For(network.Subnet4, ipv4, s6) : null;
        forgetter.Settle(ipv6 is null ? [ipv4] : [ipv4, ipv6]);
        var identity = SandboxIdentity.Create(network, name, ipv4, ipv6, dhcp: attach == "tap");
        var record = new SandboxRecord(name, attach, netnsPath, uid, gid, ipv4, ipv6, identity.Mac, ifname, policyName, policyYaml, false, DateTimeOffset.UtcNow);
        var plan = SandboxCompiler.Compile(network, identity, policy);

        // Stored as not yet applied: a crash from here on is rolled back by the next start.
        store.Put(record);

        // The rules go in while the new link is configured, on both cores: most of either is kernel work (the
        // commit validates the whole table; the link takes rtnl round trips). The link is created first: its
        // creation waits for any commit under way. A link without its rules yet is still closed: the base table
        // drops whatever crosses a link of ours that its dispatch maps and address sets do not know.
        Task? rules = null;
        var rulesIn = false;
        try
        {
            Exception? linkError = null;
            try
            {
                if (record.OwnsNamespace)
                {
                    wiring.CreateNamespace(record);
                }
                else if (pidSource is not null)
                {
                    NetworkNamespace.AttachNamed(Path.GetFileName(netnsPath!), pidSource).Dispose();
                }

                using var link = wiring.CreateLink(record);
                rules = Task.Run(() => firewall.Add(plan));
                wiring.Configure(record, link);
                if (policy.Bandwidth is not null)
                {
                    // A new link has no qdiscs to remove: unlimited sandboxes cost create no tc round trips.
                    wiring.Shape(record, policy.Bandwidth);
                }
            }
            catch (Exception ex)
            {
                linkError = ex;
            }

            // Waited for whatever happened to the link: the rules are in or out before any cleanup.
            if (rules is not null)
            {
                try
                {
                    rules.GetAwaiter().GetResult();
                    rulesIn = true;
                }
                catch (Exception ex) when (linkError is not null && IsCreateFailure(ex))
                {
                    // The link's error is the one to report; the rules never went in.
                }
            }

            if (linkError is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(linkError);
            }

            LearnTapLink(record);
            record = record with { Applied = true };
            store.Put(record);
            store.SetMeta("ipv4_cursor", ipv4.ToString());
        }
        catch (Exception ex) when (IsCreateFailure(ex))
        {
            var cleanup = wiring.Unwire(record);
            if (rulesIn)
            {
                try
                {
                    firewall.Remove(name);
                }
                catch (NftablesException removeError)
                {
                    cleanup.Add(removeError.Message);
                }
            }

            store.Delete(name);
            Hosting.Log.CreateFailed(log, name, ex.Message);
            var code = ex is InvalidOperationException ? ErrorCode.Invalid : ErrorCode.Failure;
            throw new RequestException(code, $"create {name}: {ex.Message}{(cleanup.Count > 0 ? "; cleanup: " + string.Join("; ", cleanup) : "")}");
        }

        Keep(record);
        policies = policies.SetItem(name, policy);
        RefreshResolver(name);
        Hosting.Log.Created(log, name, attach, ipv4.ToString(), ifname, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return record;
    }

    private static bool IsCreateFailure(Exception ex) =>
        ex is KernelException or NftablesException or IOException or InvalidOperationException or UnauthorizedAccessException;

    private (string Attach, string? NetnsPath, string? PidSource) ParseAttach(string? attach, string name)
    {
        var ownName = NetworkNamespace.NamedPath(config.NamespaceName(name));
        switch (attach)
        {
            case null or "" or "netns":
                if (File.Exists(ownName))
                {
                    throw new RequestException(ErrorCode.Conflict, $"the namespace {ownName} already exists; remove it or choose another name");
                }

                return ("netns", ownName, null);
            case "tap":
                return ("tap", null, null);
            case var a when a.StartsWith("netns:", StringComparison.Ordinal):
                var path = a["netns:".Length..];
                if (path.Length == 0 || !path.StartsWith('/') || !File.Exists(path))
                {
                    throw new RequestException(ErrorCode.Invalid, $"--attach netns:PATH: '{path}' is not an existing namespace file (such as /run/netns/NAME)");
                }

                if (records.Values.Any(r => r.NetnsPath == path))
                {
                    throw new RequestException(ErrorCode.Conflict, $"the namespace {path} already has a sandbox");
                }

                return (a, path, null);
            case var a when a.StartsWith("pid:", StringComparison.Ordinal):
                if (!int.TryParse(a["pid:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
                {
                    throw new RequestException(ErrorCode.Invalid, $"--attach pid:PID: '{a["pid:".Length..]}' is not a process id");
                }

                var source = $"/proc/{pid}/ns/net";
                if (!File.Exists(source))
                {
                    throw new RequestException(ErrorCode.Invalid, $"--attach pid:{pid}: no such process");
                }

                return (a, ownName, source);
            default:
                throw new RequestException(ErrorCode.Invalid, $"unknown attach '{attach}': expected netns, netns:PATH, pid:PID or tap");
        }
    }

    private static (uint? Uid, uint? Gid) ParseTapOwner(string? owner, string attach)
    {
        if (string.IsNullOrEmpty(owner))
        {
            return (null, null);
        }

        if (attach != "tap")
        {
            throw new RequestException(ErrorCode.Invalid, "--tap-owner applies to --attach tap only");
        }

        var parts = owner.Split(':');
        if (parts.Length > 2 || !uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
        {
            throw new RequestException(ErrorCode.Invalid, $"--tap-owner: expected UID or UID:GID (numbers), got '{owner}'");
        }

        uint? gid = null;
        if (parts.Length == 2)
        {
            if (!uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var g))
            {
                throw new RequestException(ErrorCode.Invalid, $"--tap-owner: expected UID or UID:GID (numbers), got '{owner}'");
            }

            gid = g;
        }

        return (uid, gid);
    }

    private IPAddress PickAddress(string? requested)
    {
        if (requested is not null)
        {
            if (!Addresses.TryParseAddress(requested, out var address, out var error) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                throw new RequestException(ErrorCode.Invalid, $"--ip: {(error.Length > 0 ? error : $"'{requested}' is not an IPv4 address")}");
            }

            if (!AddressAllocator.IsUsable(network.Subnet4, network.Gateway4, address))
            {
                throw new RequestException(ErrorCode.Invalid, $"--ip: {address} is not a sandbox address of {network.Subnet4} (outside it, or its network, gateway or broadcast address)");
            }

            if (addresses.TryGetValue(address, out var owner))
            {
                throw new RequestException(ErrorCode.Conflict, $"--ip: {address} belongs to sandbox '{owner}'");
            }

            return address;
        }

        var cursor = store.GetMeta("ipv4_cursor") is { } c ? IPAddress.Parse(c) : null;
        return AddressAllocator.Next(network.Subnet4, network.Gateway4, addresses.ContainsKey, cursor)
            ?? throw new RequestException(ErrorCode.Conflict, $"the subnet {network.Subnet4} has no free address left");
    }
}
