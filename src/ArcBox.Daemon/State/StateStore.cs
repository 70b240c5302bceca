using System.Globalization;
using System.Net;
using ArcBox.Daemon.Sandboxes;
using Microsoft.Data.Sqlite;

namespace ArcBox.Daemon.State;

/// <summary>
/// Desired state in SQLite (WAL, one connection, callers serialise writes). Unique constraints on addresses and
/// interface names make a double allocation impossible even if the allocator had a bug.
/// </summary>
public sealed class StateStore : IDisposable
{
    private const int SchemaVersion = 1;
    private readonly SqliteConnection db;
    private readonly Lock gate = new();

    // The transaction under way (see InTransaction): Microsoft.Data.Sqlite wants it set on every command run in it.
    private SqliteTransaction? transaction;

    private StateStore(SqliteConnection db) => this.db = db;

    public static StateStore Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        var store = new StateStore(db);
        var opened = false;
        try
        {
            db.Open();
            store.Prepare(path);

            // A truncated or corrupt file may open and only fail on the first read of a page: read them all now,
            // before the daemon changes anything in the kernel.
            store.Check(path);
            opened = true;
            return store;
        }
        catch (SqliteException ex)
        {
            throw new InvalidOperationException(
                $"state database {path} cannot be read ({ex.Message}); the kernel keeps enforcing the sandboxes as they are; " +
                "restore it from a backup, or move it aside to start with no sandboxes (their links and rules are then removed as orphans)",
                ex);
        }
        finally
        {
            if (!opened)
            {
                store.Dispose();
            }
        }
    }

    private void Check(string path)
    {
        lock (gate)
        {
            using var cmd = Command("PRAGMA quick_check");
            var verdict = cmd.ExecuteScalar() as string;
            if (verdict != "ok")
            {
                throw new InvalidOperationException($"state database {path} is damaged (SQLite quick_check: {verdict}); restore it from a backup, or move it aside to start with no sandboxes");
            }
        }
    }

    /// <summary>Creates the tables where missing and refuses a schema this daemon does not know.</summary>
    private void Prepare(string path)
    {
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
        Execute("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sandboxes (
                name TEXT PRIMARY KEY,
                attach TEXT NOT NULL,
                netns_path TEXT,
                tap_uid INTEGER,
                tap_gid INTEGER,
                ipv4 TEXT NOT NULL UNIQUE,
                ipv6 TEXT UNIQUE,
                mac TEXT NOT NULL UNIQUE,
                interface TEXT NOT NULL UNIQUE,
                policy_name TEXT NOT NULL,
                policy_yaml TEXT NOT NULL,
                applied INTEGER NOT NULL,
                created_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS forwards (
                host TEXT NOT NULL,
                host_port INTEGER NOT NULL,
                protocol TEXT NOT NULL,
                sandbox TEXT NOT NULL REFERENCES sandboxes(name),
                sandbox_port INTEGER NOT NULL,
                PRIMARY KEY (host, host_port, protocol));
            """);
        var version = GetMeta("schema");
        if (version is null)
        {
            SetMeta("schema", SchemaVersion.ToString(CultureInfo.InvariantCulture));
        }
        else if (version != SchemaVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"state database {path} has schema {version}; this daemon knows {SchemaVersion}");
        }
    }

    public string? GetMeta(string key)
    {
        lock (gate)
        {
            using var cmd = Command("SELECT value FROM meta WHERE key = $k", ("$k", key));
            return cmd.ExecuteScalar() as string;
        }
    }

    public void SetMeta(string key, string value)
    {
        lock (gate)
        {
            using var cmd = Command("INSERT INTO meta (key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = $v", ("$k", key), ("$v", value));
            cmd.ExecuteNonQuery();
        }
    }

    public List<SandboxRecord> All()
    {
        lock (gate)
        {
            using var cmd = Command("SELECT name, attach, netns_path, tap_uid, tap_gid, ipv4, ipv6, mac, interface, policy_name, policy_yaml, applied, created_at FROM sandboxes ORDER BY name");
            using var reader = cmd.ExecuteReader();
            var list = new List<SandboxRecord>();
            while (reader.Read())
            {
                list.Add(new SandboxRecord(
                    reader.GetString(0),
                    Attachment.FromStored(
                        reader.GetString(1),
                        reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.IsDBNull(3) ? null : (uint)reader.GetInt64(3),
                        reader.IsDBNull(4) ? null : (uint)reader.GetInt64(4)),
                    IPAddress.Parse(reader.GetString(5)),
                    reader.IsDBNull(6) ? null : IPAddress.Parse(reader.GetString(6)),
                    reader.GetString(7),
                    reader.GetString(8),
                    reader.GetString(9),
                    reader.GetString(10),
                    reader.GetInt64(11) != 0,
                    DateTimeOffset.Parse(reader.GetString(12), CultureInfo.InvariantCulture)));
            }

            return list;
        }
    }

    /// <summary>Inserts or replaces the record of <see cref="SandboxRecord.Name"/>.</summary>
    public void Put(SandboxRecord r)
    {
        lock (gate)
        {
            using var cmd = Command(
                """
                INSERT INTO sandboxes (name, attach, netns_path, tap_uid, tap_gid, ipv4, ipv6, mac, interface, policy_name, policy_yaml, applied, created_at)
                VALUES ($name, $attach, $netns, $uid, $gid, $ipv4, $ipv6, $mac, $if, $pname, $pyaml, $applied, $created)
                ON CONFLICT(name) DO UPDATE SET attach = $attach, netns_path = $netns, tap_uid = $uid, tap_gid = $gid, ipv4 = $ipv4,
                    ipv6 = $ipv6, mac = $mac, interface = $if, policy_name = $pname, policy_yaml = $pyaml, applied = $applied
                """,
                ("$name", r.Name),
                ("$attach", r.Attachment.Text),
                ("$netns", r.NetnsPath),
                ("$uid", (r.Attachment as Attachment.Tap)?.Uid),
                ("$gid", (r.Attachment as Attachment.Tap)?.Gid),
                ("$ipv4", r.Ipv4.ToString()),
                ("$ipv6", r.Ipv6?.ToString()),
                ("$mac", r.Mac),
                ("$if", r.Interface),
                ("$pname", r.PolicyName),
                ("$pyaml", r.PolicyYaml),
                ("$applied", r.Applied ? 1 : 0),
                ("$created", r.CreatedAt.ToString("O", CultureInfo.InvariantCulture)));
            cmd.ExecuteNonQuery();
        }
    }

    public bool Delete(string name)
    {
        lock (gate)
        {
            using var cmd = Command("DELETE FROM sandboxes WHERE name = $n", ("$n", name));
            return cmd.ExecuteNonQuery() > 0;
        }
    }

    public List<ArcBox.Netfilter.Forwarding.PortForward> Forwards()
    {
        lock (gate)
        {
            using var cmd = Command("SELECT host, host_port, protocol, sandbox, sandbox_port FROM forwards ORDER BY sandbox, host_port");
            using var reader = cmd.ExecuteReader();
            var list = new List<ArcBox.Netfilter.Forwarding.PortForward>();
            while (reader.Read())
            {
                list.Add(new ArcBox.Netfilter.Forwarding.PortForward(
                    IPAddress.Parse(reader.GetString(0)),
                    (int)reader.GetInt64(1),
                    reader.GetString(2) == "udp" ? ArcBox.Policy.Model.Protocol.Udp : ArcBox.Policy.Model.Protocol.Tcp,
                    reader.GetString(3),
                    (int)reader.GetInt64(4)));
            }

            return list;
        }
    }

    public void PutForward(ArcBox.Netfilter.Forwarding.PortForward f)
    {
        lock (gate)
        {
            using var cmd = Command(
                "INSERT INTO forwards (host, host_port, protocol, sandbox, sandbox_port) VALUES ($h, $hp, $p, $s, $sp)",
                ("$h", f.HostAddress.ToString()),
                ("$hp", f.HostPort),
                ("$p", f.Protocol4),
                ("$s", f.Sandbox),
                ("$sp", f.SandboxPort));
            cmd.ExecuteNonQuery();
        }
    }

    public void DeleteForward(ArcBox.Netfilter.Forwarding.PortForward f)
    {
        lock (gate)
        {
            using var cmd = Command("DELETE FROM forwards WHERE host = $h AND host_port = $hp AND protocol = $p", ("$h", f.HostAddress.ToString()), ("$hp", f.HostPort), ("$p", f.Protocol4));
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>A create's last write: the record as applied and the allocator's cursor, together or not at all.</summary>
    public void PutApplied(SandboxRecord r, IPAddress cursor) => InTransaction(() =>
    {
        Put(r with { Applied = true });
        SetMeta("ipv4_cursor", cursor.ToString());
    });

    /// <summary>A remove's write: the sandbox and its forwards, together or not at all.</summary>
    public void DeleteWithForwards(string name) => InTransaction(() =>
    {
        using (var forwards = Command("DELETE FROM forwards WHERE sandbox = $n", ("$n", name)))
        {
            forwards.ExecuteNonQuery();
        }

        Delete(name);
    });

    public void Dispose() => db.Dispose();

    private void InTransaction(Action writes)
    {
        lock (gate)
        {
            using var tx = db.BeginTransaction();
            transaction = tx;
            try
            {
                writes();
                tx.Commit();
            }
            finally
            {
                transaction = null;
            }
        }
    }

    private void Execute(string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }
}
