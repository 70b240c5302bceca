using ArcBox.Daemon.Config;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Linux;
using ArcBox.Netfilter;
using Microsoft.Extensions.Logging.Abstractions;

namespace ArcBox.Daemon.Tests.Sandboxes;

/// <summary>
/// The lifecycle's order of steps and its cleanup on every failure, against a recording firewall and links that
/// exist only in a set, with a real SQLite state file: what the store, the table and the observers hold after each.
/// </summary>
public sealed class SandboxLifecycleTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("arcbox-lifecycle-").FullName;
    private readonly StateStore store;
    private readonly RecordingFirewall firewall = new();
    private readonly FakeWiring wiring = new();
    private readonly FakeForgetter forgetter = new();
    private readonly ChangeGate gate;
    private readonly RecordingObserver first = new("first");
    private readonly RecordingObserver second = new("second");
    private SandboxLifecycle lifecycle;

    public SandboxLifecycleTests()
    {
        store = StateStore.Open(Path.Combine(directory, "arcbox.db"));
        gate = new ChangeGate(forgetter);
        lifecycle = NewLifecycle();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_create_is_published_whole_once_its_link_and_rules_are_in()
    {
        var before = lifecycle.Table;
        var created = await lifecycle.CreateAsync(new CreateRequest("web", "tap", null, null, "1000:1001"), Ct);

        Assert.Equal(["add web"], firewall.Calls);
        Assert.Equal(["name web", "link web", "configure web"], wiring.Calls);
        Assert.Equal(new Attachment.Tap(1000, 1001), created.Record.Attachment);
        Assert.Same(created, lifecycle.Table.Get("web"));
        Assert.Equal("web", lifecycle.Table.OwnerOfInterface(created.Record.Interface));
        Assert.Equal("web", lifecycle.Table.OwnerOfAddress(created.Record.Ipv4));
        Assert.Same(created, lifecycle.Table.OfLinkIndex(created.LinkIndex!.Value));
        Assert.True(Assert.Single(store.All()).Applied);
        Assert.Equal(["added web"], first.Events);

        // A table in hand does not change under its reader.
        Assert.False(before.Contains("web"));
    }

    [Fact]
    public async Task A_create_whose_rules_are_refused_leaves_no_record_no_link_and_no_sandbox()
    {
        firewall.Refuse = call => call == "add web" ? new NftablesException("add sandbox web", "Operation not supported") : null;

        var error = await Assert.ThrowsAsync<RequestException>(() => lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct));

        Assert.Equal(ErrorCode.Failure, error.Code);
        Assert.Contains("Operation not supported", error.Message, StringComparison.Ordinal);
        Assert.IsType<NftablesException>(error.InnerException);
        Assert.Contains("unwire web", wiring.Calls);
        Assert.Empty(wiring.Wired);
        Assert.Empty(store.All());
        Assert.False(lifecycle.Table.Contains("web"));
        Assert.Empty(first.Events);
    }

    [Fact]
    public async Task A_create_whose_link_fails_takes_its_rules_out_again_and_frees_its_address()
    {
        wiring.Fail = call => call == "configure web" ? new KernelException("add address 10.0.0.1/32 dev ab-web", Errno.EEXIST) : null;

        var error = await Assert.ThrowsAsync<RequestException>(() => lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct));

        Assert.Contains("EEXIST", error.Message, StringComparison.Ordinal);
        Assert.Equal(["add web", "remove web"], firewall.Calls);
        Assert.Empty(store.All());
        wiring.Fail = _ => null;
        var next = await lifecycle.CreateAsync(new CreateRequest("db", null, null, null, null), Ct);
        Assert.Equal("10.0.0.2", next.Record.Ipv4.ToString());
    }

    [Fact]
    public async Task A_remove_goes_on_past_every_failure_and_reports_each()
    {
        await lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct);
        first.RemoveProblem = "forward 127.0.0.1:8080/tcp: the kernel refused it";
        second.Throw = true;
        wiring.UnwireProblems.Add("delete link ab-web: EBUSY");
        firewall.Refuse = call => call == "remove web" ? new NftablesException("remove sandbox web", "Device or resource busy") : null;

        var problems = await lifecycle.RemoveAsync("web", Ct);

        // The observer that throws does so twice: while the sandbox goes, and once it is gone.
        Assert.Equal(5, problems.Count);
        Assert.Contains(first.RemoveProblem, problems);
        Assert.Contains(problems, p => p.StartsWith("RecordingObserver: second failed on 'removing web'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RecordingObserver: second failed on 'removed web'", StringComparison.Ordinal));
        Assert.Contains("delete link ab-web: EBUSY", problems);
        Assert.Contains(problems, p => p.Contains("Device or resource busy", StringComparison.Ordinal));
        Assert.Empty(store.All());
        Assert.False(lifecycle.Table.Contains("web"));
        Assert.Equal(["web"], forgetter.Forgotten);

        // Both were told of the remove, the one that threw included.
        Assert.Equal(["added web", "removing web", "removed web"], first.Events);
        Assert.Equal(["added web", "removing web", "removed web"], second.Events);
    }

    [Fact]
    public async Task A_policy_the_kernel_refuses_changes_nothing()
    {
        var web = await lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct);
        firewall.Refuse = call => call == "replace web" ? new NftablesException("replace sandbox web", "No such file or directory") : null;

        await Assert.ThrowsAsync<RequestException>(() => lifecycle.SetPolicyAsync("web", new PolicyInput("offline", null, null), Ct));

        Assert.Same(web, lifecycle.Table.Get("web"));
        Assert.Equal("default", Assert.Single(store.All()).PolicyName);
        Assert.Equal(["added web"], first.Events);

        firewall.Refuse = _ => null;
        var after = await lifecycle.SetPolicyAsync("web", new PolicyInput("offline", null, null), Ct);
        Assert.Equal("offline", lifecycle.Table.Get("web").Record.PolicyName);
        Assert.Same(after.Policy, lifecycle.Table.Get("web").Policy);
        Assert.Equal("offline", Assert.Single(store.All()).PolicyName);
        Assert.Equal(["added web", "changed web default->offline"], first.Events);
    }

    [Fact]
    public async Task Reconcile_rolls_back_unfinished_creates_and_goes_on_past_orphans_it_cannot_remove()
    {
        // A container's namespace (a file that exists), so that reconcile makes its link again.
        var container = Path.Combine(directory, "ctr");
        await File.WriteAllTextAsync(container, "", Ct);
        await lifecycle.CreateAsync(new CreateRequest("web", "netns:" + container, null, null, null), Ct);
        await lifecycle.CreateAsync(new CreateRequest("vm", "tap", null, null, null), Ct);
        var half = Assert.Single(store.All(), r => r.Name == "web") with { Name = "half", Interface = "ab-half", Mac = "02:00:0a:00:00:09", Ipv4 = System.Net.IPAddress.Parse("10.0.0.9"), Applied = false };
        store.Put(half);
        wiring.Wired.Clear();
        wiring.Calls.Clear();
        firewall.Calls.Clear();
        wiring.OrphanProblems.Add("delete link ab-old: EPERM");
        wiring.Fail = call => call == "wire vm" ? new KernelException("create tap ab-vm", Errno.EBUSY) : null;

        lifecycle = NewLifecycle();
        lifecycle.Reconcile();

        Assert.Equal(["load vm,web +0"], firewall.Calls);
        Assert.Contains("unwire half", wiring.Calls);
        Assert.Contains("wire web", wiring.Calls);
        Assert.Contains("orphans", wiring.Calls);
        Assert.DoesNotContain(store.All(), r => r.Name == "half");
        Assert.Equal(["vm", "web"], lifecycle.Table.All().Select(s => s.Name));

        // The TAP that could not be made again has no link index for DHCP to find it by.
        Assert.Null(lifecycle.Table.Get("vm").LinkIndex);
        Assert.Equal("loaded vm,web", first.Events[^1]);
    }

    [Fact]
    public async Task Creates_are_refused_for_names_interfaces_addresses_and_attachments_already_taken()
    {
        await lifecycle.CreateAsync(new CreateRequest("web", null, null, "10.0.0.7", null), Ct);

        async Task<RequestException> Refused(CreateRequest r) => await Assert.ThrowsAsync<RequestException>(() => lifecycle.CreateAsync(r, Ct));
        Assert.Equal(ErrorCode.Conflict, (await Refused(new CreateRequest("web", null, null, null, null))).Code);
        Assert.Contains("belongs to sandbox 'web'", (await Refused(new CreateRequest("db", null, null, "10.0.0.7", null))).Message, StringComparison.Ordinal);
        Assert.Contains("applies to --attach tap only", (await Refused(new CreateRequest("db", null, null, null, "1000"))).Message, StringComparison.Ordinal);
        Assert.Contains("expected UID or UID:GID", (await Refused(new CreateRequest("db", "tap", null, null, "1000:x"))).Message, StringComparison.Ordinal);
        Assert.Contains("unknown attach 'vm'", (await Refused(new CreateRequest("db", "vm", null, null, null))).Message, StringComparison.Ordinal);
        Assert.Single(store.All());
        Assert.Equal(["add web"], firewall.Calls);
    }

    /// <summary>A final write that fails (a full disk, here a trigger that refuses it) takes the create back out of
    /// the kernel and the state; the cursor moves with the record or not at all, so the next create gets the address.</summary>
    [Fact]
    public async Task A_create_whose_last_state_write_fails_is_undone_and_its_address_given_again()
    {
        var a = await lifecycle.CreateAsync(new CreateRequest("a", null, null, null, null), Ct);
        Refuse("BEFORE UPDATE ON sandboxes");

        var error = await Assert.ThrowsAsync<RequestException>(() => lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct));

        Assert.Equal(ErrorCode.Failure, error.Code);
        Assert.Equal(["add a", "add web", "remove web"], firewall.Calls);
        Assert.Equal(["a"], store.All().Select(r => r.Name));
        Assert.Equal(a.Record.Ipv4.ToString(), store.GetMeta("ipv4_cursor"));
        Assert.False(lifecycle.Table.Contains("web"));
        Allow();
        var next = await lifecycle.CreateAsync(new CreateRequest("db", null, null, null, null), Ct);
        Assert.Equal("10.0.0.3", next.Record.Ipv4.ToString());
    }

    [Fact]
    public async Task A_remove_that_cannot_write_the_state_removes_nothing()
    {
        await lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct);
        wiring.Calls.Clear();
        Refuse("BEFORE DELETE ON sandboxes");

        var error = await Assert.ThrowsAsync<RequestException>(() => lifecycle.RemoveAsync("web", Ct));

        Assert.Contains("rm web: cannot write the state", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing changed", error.Message, StringComparison.Ordinal);
        Assert.Equal(["add web"], firewall.Calls);
        Assert.Empty(wiring.Calls);
        Assert.True(lifecycle.Table.Contains("web"));
        Assert.Single(store.All());
        Assert.Equal(["added web"], first.Events);
    }

    [Fact]
    public async Task A_policy_the_state_cannot_keep_is_taken_back_out_of_the_kernel()
    {
        var web = await lifecycle.CreateAsync(new CreateRequest("web", null, null, null, null), Ct);
        Refuse("BEFORE UPDATE ON sandboxes");

        var error = await Assert.ThrowsAsync<RequestException>(() => lifecycle.SetPolicyAsync("web", new PolicyInput("offline", null, null), Ct));

        Assert.Contains("the previous policy stays", error.Message, StringComparison.Ordinal);
        Assert.Equal(["add web", "replace web", "replace web"], firewall.Calls);
        Assert.Same(web, lifecycle.Table.Get("web"));
        Assert.Equal("default", Assert.Single(store.All()).PolicyName);
        Assert.Empty(forgetter.Forgotten);
    }

    public void Dispose()
    {
        store.Dispose();
        gate.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Makes the state refuse a kind of write, as a full disk would (through a second connection).</summary>
    private void Refuse(string when) => Sql($"CREATE TRIGGER refuse {when} BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");

    private void Allow() => Sql("DROP TRIGGER refuse;");

    private void Sql(string sql)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(directory, "arcbox.db")};Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private SandboxLifecycle NewLifecycle()
    {
        var config = DaemonConfig.Defaults(directory, Path.Combine(directory, "arcbox.sock"));
        var created = new SandboxLifecycle(config, config.Network(null), store, firewall, wiring, forgetter, gate, NullLogger.Instance);
        created.Observe(first);
        created.Observe(second);
        first.Events.Clear();
        second.Events.Clear();
        return created;
    }
}
