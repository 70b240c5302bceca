using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Fail-closed: the kernel keeps enforcing while the daemon is dead, and a restart reconciles without
/// cutting established flows that are still allowed.</summary>
public class RestartTests
{
    [Fact]
    public void Kill_9_keeps_every_sandbox_enforced_and_restart_keeps_established_flows()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("kill");
        var web = net.Create("web", "network:\n  outbound:\n    - protocol: tcp\n      ports: [80, 7777]\n").GetProperty("ipv4").GetString()!;
        net.Create("db", builtin: "offline");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80,443");
        net.PythonServer(TestNetwork.NetnsPath(net.Internet), "hold.py", "--serve", "7777");
        var hold = net.StartPython(net.NamespaceOf("web"), "hold.py", TestNetwork.WebServer, "7777", "12");

        // The flow must be established before the kill, or the restart would not be keeping it.
        net.WaitForEstablished(web, TestNetwork.WebServer, 7777);

        net.KillDaemon();
        Assert.True(net.Reaches(net.NamespaceOf("web"), "tcp:203.0.113.10:80"), "allowed traffic stopped with the daemon");
        Assert.False(net.Reaches(net.NamespaceOf("web"), "tcp:203.0.113.10:443", 700), "denied traffic passed with the daemon dead");
        Assert.False(net.Reaches(net.NamespaceOf("db"), "tcp:203.0.113.10:80", 700), "offline sandbox reached out with the daemon dead");

        net.StartDaemon();
        Assert.Contains("reconciled 2 sandbox(es)", net.DaemonLog, StringComparison.Ordinal);
        Assert.True(net.Reaches(net.NamespaceOf("web"), "tcp:203.0.113.10:80"));
        Assert.False(net.Reaches(net.NamespaceOf("web"), "tcp:203.0.113.10:443", 700));

        // The connection opened before the kill exchanged a byte every 100 ms through kill and restart.
        Assert.True(hold.WaitForExit(20_000));
        var result = hold.StandardOutput.ReadToEnd().Trim();
        Assert.StartsWith("ok ", result, StringComparison.Ordinal);

        // The restarted daemon manages what the dead one created.
        net.Remove("db");
        Assert.False(File.Exists(net.NamespaceOf("db")));
    }

    [Fact]
    public void Restart_removes_orphans_and_recreates_missing_links()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("recon");
        net.Create("web", builtin: "default");
        net.Create("db", builtin: "default");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        net.KillDaemon();

        // While the daemon is down: someone deletes web's link, and a stray link with our prefix appears.
        net.Host.Exec("ip", "link", "del", $"{net.Prefix}-web").EnsureSuccess("delete web's link");
        net.Host.Exec("ip", "link", "add", $"{net.Prefix}-stray", "type", "veth", "peer", "name", $"{net.Prefix}-stray2").EnsureSuccess("stray link");

        net.StartDaemon();
        var links = net.Host.Exec("ip", "-o", "link").Stdout;
        Assert.Contains($"{net.Prefix}-web", links, StringComparison.Ordinal);
        Assert.DoesNotContain($"{net.Prefix}-stray", links, StringComparison.Ordinal);
        Assert.True(net.Reaches(net.NamespaceOf("web"), "tcp:203.0.113.10:80"));
        Assert.True(net.Reaches(net.NamespaceOf("db"), "tcp:203.0.113.10:80"));
    }

    [Fact]
    public void Sigterm_stops_cleanly_and_leaves_kernel_state_in_place()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("term");
        net.Create("web", builtin: "offline");
        net.StopDaemon();
        Assert.Contains("stopping; the kernel keeps enforcing", net.DaemonLog, StringComparison.Ordinal);
        Assert.Contains("sb_web_out", net.NftList("ruleset"), StringComparison.Ordinal);
        Assert.Contains($"{net.Prefix}-web", net.Host.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);
    }
}
