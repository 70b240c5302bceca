using System.Diagnostics;
using System.Net;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Linux.Namespaces;
using ArcBox.Netfilter;
using ArcBox.Netfilter.Compiler;
using ArcBox.Policy.Parsing;

namespace ArcBox.Daemon.Sandboxes;

public sealed partial class SandboxLifecycle
{
    public Task<Sandbox> CreateAsync(CreateRequest request, CancellationToken cancellationToken = default) =>
        gate.RunAsync(() => Create(request), cancellationToken);

    private Sandbox Create(CreateRequest request)
    {
        var started = Stopwatch.GetTimestamp();
        var current = Table;
        var name = request.Name ?? "";
        if (SandboxNames.Validate(name) is { } nameError)
        {
            throw new RequestException(ErrorCode.Invalid, nameError);
        }

        if (current.Contains(name))
        {
            throw new RequestException(ErrorCode.Conflict, $"sandbox '{name}' already exists");
        }

        var ifname = InterfaceNames.For(network.Prefix, name);
        if (current.OwnerOfInterface(ifname) is { } clash)
        {
            throw new RequestException(ErrorCode.Conflict, $"sandbox '{name}' would use interface {ifname}, which sandbox '{clash}' has; choose another name");
        }

        var (policyName, policyYaml, policy) = (request.Policy ?? new PolicyInput(null, null, null)).Resolve();
        var attachment = ValidateAttachment(request, name, current);
        var ipv4 = PickAddress(request.Ipv4, current);
        var ipv6 = network.Subnet6 is { } s6 ? AddressAllocator.Ipv6For(network.Subnet4, ipv4, s6) : null;
        forgetter.Settle(ipv6 is null ? [ipv4] : [ipv4, ipv6]);
        var identity = SandboxIdentity.Create(network, name, ipv4, ipv6, dhcp: attachment is Attachment.Tap);
        var record = new SandboxRecord(name, attachment, ipv4, ipv6, identity.Mac, ifname, policyName, policyYaml, false, DateTimeOffset.UtcNow);
        var plan = SandboxCompiler.Compile(network, identity, policy);

        // Stored as not yet applied: a crash from here on is rolled back by the next start.
        Store(() => store.Put(record), $"create {name}");

        // The rules go in while the new link is configured, on both cores: most of either is kernel work (the
        // commit validates the whole table; the link takes rtnl round trips). The link is created first: its
        // creation waits for any commit under way. A link without its rules yet is still closed: the base table
        // drops whatever crosses a link of ours that its dispatch maps and address sets do not know.
        Task? rules = null;
        var rulesIn = false;
        int? linkIndex;
        try
        {
            Exception? linkError = null;
            try
            {
                if (record.OwnsNamespace)
                {
                    wiring.CreateNamespace(record);
                }
                else
                {
                    wiring.NameProcessNamespace(record);
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

            linkIndex = record.IsTap ? wiring.LinkIndex(record) : null;

            // Applied and the allocator's cursor in one transaction: a cursor written alone, pointing at a create
            // that was rolled back, sent every later create onto the same address.
            store.PutApplied(record, ipv4);
            record = record with { Applied = true };
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

            try
            {
                store.Delete(name);
            }
            catch (Microsoft.Data.Sqlite.SqliteException deleteError)
            {
                // Still marked unapplied: the next start rolls it back. Until then its name and addresses are taken.
                cleanup.Add($"its unfinished record stays until the next start: {deleteError.Message}");
            }

            Hosting.Log.CreateFailed(log, name, ex.Message);
            var code = ex is InvalidOperationException ? ErrorCode.Invalid : ErrorCode.Failure;
            throw new RequestException(code, $"create {name}: {ex.Message}{(cleanup.Count > 0 ? "; cleanup: " + string.Join("; ", cleanup) : "")}", inner: ex);
        }

        var sandbox = new Sandbox(record, policy, linkIndex);
        Publish(current.With(sandbox));
        Notify(name, "create", o => o.Added(sandbox));
        Hosting.Log.Created(log, name, attachment.Text, ipv4.ToString(), ifname, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return sandbox;
    }

    private static bool IsCreateFailure(Exception ex) =>
        ex is KernelException or NftablesException or IOException or InvalidOperationException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException;

    /// <summary>The typed attachment, checked against the machine and the other sandboxes; nothing is changed yet.</summary>
    private Attachment ValidateAttachment(CreateRequest request, string name, SandboxTable current)
    {
        var attachment = Attachment.Parse(request.Attach, NetworkNamespace.NamedPath(config.NamespaceName(name)));
        switch (attachment)
        {
            case Attachment.Netns own when File.Exists(own.Path):
                throw new RequestException(ErrorCode.Conflict, $"the namespace {own.Path} already exists; remove it or choose another name");
            case Attachment.NetnsPath existing when current.OwnerOfNamespace(existing.Path) is not null:
                throw new RequestException(ErrorCode.Conflict, $"the namespace {existing.Path} already has a sandbox");
        }

        if (!string.IsNullOrEmpty(request.TapOwner))
        {
            return attachment is Attachment.Tap
                ? Attachment.Tap.WithOwner(request.TapOwner)
                : throw new RequestException(ErrorCode.Invalid, "--tap-owner applies to --attach tap only");
        }

        return attachment;
    }

    private IPAddress PickAddress(string? requested, SandboxTable current)
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

            if (current.OwnerOfAddress(address) is { } owner)
            {
                throw new RequestException(ErrorCode.Conflict, $"--ip: {address} belongs to sandbox '{owner}'");
            }

            return address;
        }

        var cursor = store.GetMeta("ipv4_cursor") is { } c ? IPAddress.Parse(c) : null;
        return AddressAllocator.Next(network.Subnet4, network.Gateway4, a => current.OwnerOfAddress(a) is not null, cursor)
            ?? throw new RequestException(ErrorCode.Conflict, $"the subnet {network.Subnet4} has no free address left");
    }
}
