using System.Net;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Netfilter.Forwarding;
using ArcBox.Policy.Model;
using Microsoft.Data.Sqlite;

namespace ArcBox.Daemon.Tests.State;

/// <summary>The desired state in a real SQLite file in a temporary directory, removed after each test.</summary>
public sealed class StateStoreTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("arcbox-state-").FullName;

    // A directory the store has to create, as /var/lib/arcbox on a fresh machine.
    private string DatabasePath => Path.Combine(directory, "state", "arcbox.db");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly DateTimeOffset Created = new(2025, 3, 14, 15, 9, 26, 535, TimeSpan.FromHours(2));

    private static SandboxRecord Netns(string name, int host) => new(
        name, new Attachment.Netns($"/run/netns/arcbox-ab-{name}"),
        IPAddress.Parse($"10.0.0.{host}"), IPAddress.Parse($"fd00:ab::{host:x}"), $"02:ab:00:00:00:{host:x2}", $"ab-{name}",
        "default", "network:\n  outbound: []\n", true, Created.AddTicks(1234567));

    private static SandboxRecord Tap(string name, int host) => new(
        name, new Attachment.Tap(uint.MaxValue, 5678),
        IPAddress.Parse($"10.0.0.{host}"), null, $"02:ab:00:00:01:{host:x2}", $"ab-{name}",
        $"/home/me/{name}.yaml", "network: {}\n", false, Created);

    private static PortForward Forward(string host, int hostPort, Protocol protocol, string sandbox, int sandboxPort) =>
        new(IPAddress.Parse(host), hostPort, protocol, sandbox, sandboxPort);

    [Fact]
    public void A_new_store_makes_its_directory_and_is_empty_at_schema_1()
    {
        using var store = StateStore.Open(DatabasePath);
        Assert.True(File.Exists(DatabasePath));
        Assert.Empty(store.All());
        Assert.Empty(store.Forwards());
        Assert.Equal("1", store.GetMeta("schema"));
    }

    [Fact]
    public void Records_come_back_as_put_in_name_order()
    {
        using var store = StateStore.Open(DatabasePath);
        var web = Netns("web", 2);
        var vm = Tap("vm", 3);
        var pid = Netns("app", 4) with { Attachment = new Attachment.Pid(4242, "/run/netns/arcbox-ab-app") };
        store.Put(web);
        store.Put(vm);
        store.Put(pid);
        Assert.Equal([pid, vm, web], store.All());

        // Every field, including the nulls, the largest uid and the creation time to the tick with its offset.
        var read = store.All().Single(r => r.Name == "vm");
        Assert.Equal(((string?)null, uint.MaxValue, 5678u, (IPAddress?)null, false), (read.NetnsPath, (read.Attachment as Attachment.Tap)?.Uid, (read.Attachment as Attachment.Tap)?.Gid, read.Ipv6, read.Applied));
        Assert.Equal(Created.Offset, read.CreatedAt.Offset);
        Assert.Equal(web.CreatedAt.Ticks, store.All().Single(r => r.Name == "web").CreatedAt.Ticks);
    }

    [Fact]
    public void Put_of_an_existing_name_replaces_it_but_keeps_its_creation_time()
    {
        using var store = StateStore.Open(DatabasePath);
        var first = Netns("web", 2) with { Applied = false };
        store.Put(first);
        var changed = first with
        {
            Ipv4 = IPAddress.Parse("10.0.0.9"), Ipv6 = null, Mac = "02:ab:00:00:00:99", Interface = "ab-web2",
            PolicyName = "offline", PolicyYaml = "network: {}\n", Applied = true, CreatedAt = Created.AddDays(1),
        };
        store.Put(changed);
        Assert.Equal([changed with { CreatedAt = first.CreatedAt }], store.All());
    }

    [Fact]
    public void Delete_says_whether_there_was_such_a_sandbox()
    {
        using var store = StateStore.Open(DatabasePath);
        store.Put(Netns("web", 2));
        store.Put(Netns("db", 3));
        Assert.True(store.Delete("web"));
        Assert.False(store.Delete("web"));
        Assert.False(store.Delete("nobody"));
        Assert.Equal(["db"], store.All().Select(r => r.Name));
    }

    [Fact]
    public void Two_sandboxes_can_never_share_an_address_a_mac_or_an_interface()
    {
        using var store = StateStore.Open(DatabasePath);
        var web = Netns("web", 2);
        store.Put(web);
        var db = Netns("db", 3);
        foreach (var clash in new[]
        {
            db with { Ipv4 = web.Ipv4 },
            db with { Ipv6 = web.Ipv6 },
            db with { Mac = web.Mac },
            db with { Interface = web.Interface },
        })
        {
            var error = Assert.Throws<SqliteException>(() => store.Put(clash));
            Assert.Contains("UNIQUE constraint failed", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal([web], store.All());

        // No IPv6 address is no address: any number of IPv4-only sandboxes.
        store.Put(db with { Ipv6 = null });
        store.Put(Netns("cache", 4) with { Ipv6 = null });
        Assert.Equal(3, store.All().Count);
    }

    [Fact]
    public void Forwards_come_back_by_sandbox_and_host_port_with_their_protocol()
    {
        using var store = StateStore.Open(DatabasePath);
        store.Put(Netns("web", 2));
        store.Put(Netns("db", 3));
        var web8080 = Forward("0.0.0.0", 8080, Protocol.Tcp, "web", 80);
        var web53 = Forward("127.0.0.1", 53, Protocol.Udp, "web", 5353);
        var db5432 = Forward("::", 5432, Protocol.Tcp, "db", 5432);
        var web8080Udp = Forward("0.0.0.0", 8080, Protocol.Udp, "web", 8080);
        store.PutForward(web8080);
        store.PutForward(web53);
        store.PutForward(db5432);
        store.PutForward(web8080Udp);
        var forwards = store.Forwards();
        Assert.Equal([db5432, web53, web8080], forwards.Where(f => f != web8080Udp));
        Assert.Contains(web8080Udp, forwards);
        Assert.Equal(4, forwards.Count);
    }

    [Fact]
    public void A_host_port_is_forwarded_once_per_protocol()
    {
        using var store = StateStore.Open(DatabasePath);
        store.Put(Netns("web", 2));
        store.Put(Netns("db", 3));
        store.PutForward(Forward("0.0.0.0", 8080, Protocol.Tcp, "web", 80));
        Assert.Throws<SqliteException>(() => store.PutForward(Forward("0.0.0.0", 8080, Protocol.Tcp, "db", 81)));
        Assert.Equal([Forward("0.0.0.0", 8080, Protocol.Tcp, "web", 80)], store.Forwards());
    }

    [Fact]
    public void A_forward_names_an_existing_sandbox_which_cannot_be_deleted_before_its_forwards()
    {
        using var store = StateStore.Open(DatabasePath);
        Assert.Throws<SqliteException>(() => store.PutForward(Forward("0.0.0.0", 8080, Protocol.Tcp, "nobody", 80)));
        store.Put(Netns("web", 2));
        var forward = Forward("0.0.0.0", 8080, Protocol.Tcp, "web", 80);
        store.PutForward(forward);
        Assert.Throws<SqliteException>(() => store.Delete("web"));
        Assert.Single(store.All());

        store.DeleteForward(forward);
        Assert.Empty(store.Forwards());
        Assert.True(store.Delete("web"));
    }

    [Fact]
    public void DeleteForward_matches_host_address_port_and_protocol_only()
    {
        using var store = StateStore.Open(DatabasePath);
        store.Put(Netns("web", 2));
        store.PutForward(Forward("0.0.0.0", 8080, Protocol.Tcp, "web", 80));
        store.PutForward(Forward("0.0.0.0", 8080, Protocol.Udp, "web", 80));
        store.PutForward(Forward("127.0.0.1", 8080, Protocol.Tcp, "web", 80));

        // The sandbox side is not part of the key: a forward is removed by where it listens.
        store.DeleteForward(Forward("0.0.0.0", 8080, Protocol.Tcp, "other", 1));
        Assert.Equal(
            [Forward("0.0.0.0", 8080, Protocol.Udp, "web", 80), Forward("127.0.0.1", 8080, Protocol.Tcp, "web", 80)],
            store.Forwards().OrderBy(f => f.Key, StringComparer.Ordinal));
        store.DeleteForward(Forward("0.0.0.0", 9999, Protocol.Tcp, "web", 80));
        Assert.Equal(2, store.Forwards().Count);
    }

    [Fact]
    public void Meta_values_are_set_overwritten_and_missing_as_null()
    {
        using var store = StateStore.Open(DatabasePath);
        Assert.Null(store.GetMeta("ipv4_cursor"));
        store.SetMeta("ipv4_cursor", "10.0.0.2");
        store.SetMeta("ipv4_cursor", "10.0.0.3");
        Assert.Equal("10.0.0.3", store.GetMeta("ipv4_cursor"));
    }

    [Fact]
    public void Reopening_keeps_every_record_forward_and_meta_value()
    {
        var records = new[] { Netns("web", 2), Tap("vm", 3), Netns("db", 4) with { Applied = false } };
        var forwards = new[] { Forward("0.0.0.0", 8080, Protocol.Tcp, "web", 80), Forward("::1", 53, Protocol.Udp, "db", 53) };
        using (var store = StateStore.Open(DatabasePath))
        {
            foreach (var r in records)
            {
                store.Put(r);
            }

            foreach (var f in forwards)
            {
                store.PutForward(f);
            }

            store.SetMeta("ipv4_cursor", "10.0.0.4");
        }

        using (var store = StateStore.Open(DatabasePath))
        {
            Assert.Equal(records.OrderBy(r => r.Name, StringComparer.Ordinal), store.All());
            Assert.Equal(forwards.OrderBy(f => f.Sandbox, StringComparer.Ordinal), store.Forwards());
            Assert.Equal("10.0.0.4", store.GetMeta("ipv4_cursor"));
            Assert.Equal("1", store.GetMeta("schema"));
        }
    }

    [Fact]
    public void A_database_of_another_schema_is_refused_and_left_as_it_is()
    {
        using (var store = StateStore.Open(DatabasePath))
        {
            store.Put(Netns("web", 2));
            store.SetMeta("schema", "2");
        }

        var error = Assert.Throws<InvalidOperationException>(() => StateStore.Open(DatabasePath));
        Assert.Equal($"state database {DatabasePath} has schema 2; this daemon knows 1", error.Message);
        Assert.Equal(("2", 1L), Raw("SELECT (SELECT value FROM meta WHERE key = 'schema'), (SELECT count(*) FROM sandboxes)", r => (r.GetString(0), r.GetInt64(1))));

        // The refused open closed its connection: no file descriptor of this process still holds the database.
        Assert.DoesNotContain(DatabasePath, Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget));
    }

    /// <summary>A damaged file is refused at open, naming it and what to do, before the daemon changes anything.</summary>
    [Theory]
    [InlineData("truncated")]
    [InlineData("overwritten")]
    public void A_damaged_database_is_refused_naming_the_file_and_what_to_do(string damage)
    {
        using (var store = StateStore.Open(DatabasePath))
        {
            for (var i = 2; i < 250; i++)
            {
                store.Put(Netns($"s{i}", i));
            }
        }

        var bytes = File.ReadAllBytes(DatabasePath);
        if (damage == "truncated")
        {
            File.WriteAllBytes(DatabasePath, bytes[..(bytes.Length / 2)]);
        }
        else
        {
            Array.Fill(bytes, (byte)0x5a, 0, 100);
            File.WriteAllBytes(DatabasePath, bytes);
        }

        var error = Assert.Throws<InvalidOperationException>(() => StateStore.Open(DatabasePath));
        Assert.StartsWith($"state database {DatabasePath} ", error.Message, StringComparison.Ordinal);
        Assert.Contains("restore it from a backup, or move it aside", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(DatabasePath, Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget));
    }

    [Fact]
    public void The_database_is_in_wal_mode()
    {
        using (StateStore.Open(DatabasePath))
        {
        }

        // journal_mode=WAL is a property of the file: another connection sees it.
        Assert.Equal("wal", Raw("PRAGMA journal_mode", r => r.GetString(0)));
    }

    /// <summary>One row read with a connection of our own, past the store.</summary>
    private T Raw<T>(string sql, Func<SqliteDataReader, T> read)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        Assert.True(reader.Read());
        return read(reader);
    }
}
