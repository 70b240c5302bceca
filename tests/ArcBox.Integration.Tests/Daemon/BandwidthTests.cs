using System.Globalization;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Bandwidth limits in tc, measured with iperf3 TCP from a real sandbox to the internet namespace.</summary>
public class BandwidthTests
{
    private static string? WhyNot => Needs.Root ?? Root.WhyNot("iperf3", "tc");

    private static string Policy(string? egress, string? ingress) =>
        "network:\n  outbound:\n    - protocol: tcp\n      port: 5201\n      to: internet\n"
        + (egress is null && ingress is null ? "" : "  bandwidth:\n" + (egress is null ? "" : $"    egress: {egress}\n") + (ingress is null ? "" : $"    ingress: {ingress}\n"));

    [Fact]
    public void Upload_and_download_are_shaped_to_the_policy_changed_live_and_removed_with_the_sandbox()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");

        // The ifb links live in the daemon's namespace only: loading the ifb module must add none to the machine's own.
        var rootLinks = RootLinks();
        using var net = new TestNetwork("bw");
        var inet = TestNetwork.NetnsPath(net.Internet);
        net.Background(inet, "iperf3", "-s");
        var address = net.Create("limited", Policy("2mbit", "8mbit")).GetProperty("ipv4").GetString()!;
        net.Create("free", Policy(null, null));
        var ns = net.NamespaceOf("limited");
        var ifb = $"{net.Prefix}.limited";
        WaitForServer(net, ns);

        AssertRate(Iperf(ns, upload: true), 2e6, "upload at 2mbit");
        AssertRate(Iperf(ns, upload: false), 8e6, "download at 8mbit");
        Assert.Equal(rootLinks, RootLinks());

        // Another sandbox is not limited by this one's buckets.
        Assert.True(Iperf(net.NamespaceOf("free"), upload: true) > 100e6, "the unlimited sandbox is shaped too");

        // A live change replaces the buckets in place; the redirect into the IFB stays as it was.
        var redirect = net.Host.Exec("tc", "filter", "show", "dev", $"{net.Prefix}-limited", "ingress").Stdout;
        net.SetPolicy("limited", Policy("40mbit", "100mbit"));
        WaitForgotten(net, address);
        Assert.Equal(redirect, net.Host.Exec("tc", "filter", "show", "dev", $"{net.Prefix}-limited", "ingress").Stdout);
        Assert.Contains("mirred (Egress Redirect to device " + ifb + ")", redirect, StringComparison.Ordinal);
        AssertRate(Iperf(ns, upload: true), 40e6, "upload at 40mbit");
        AssertRate(Iperf(ns, upload: false), 100e6, "download at 100mbit");

        // No limits: qdiscs and IFB go, traffic is unshaped.
        net.SetPolicy("limited", Policy(null, null));
        WaitForgotten(net, address);
        Assert.DoesNotContain("tbf", net.Host.Exec("tc", "qdisc", "show", "dev", $"{net.Prefix}-limited").Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(ifb, net.Host.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);
        Assert.True(Iperf(ns, upload: true) > 100e6, "still shaped after the limits were removed");

        // rm removes the IFB with the sandbox.
        net.SetPolicy("limited", Policy("5mbit", null));
        Assert.Contains(ifb, net.Host.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);
        net.Remove("limited");
        Assert.DoesNotContain(ifb, net.Host.Exec("ip", "-o", "link").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_survive_a_daemon_restart_and_orphaned_ifbs_are_removed()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("bwre");
        net.Create("a", Policy("3mbit", "6mbit"));
        net.KillDaemon();

        // A stale IFB of a sandbox that is gone, as a crash could leave it.
        net.Host.Exec("ip", "link", "add", $"{net.Prefix}.gone", "type", "ifb").EnsureSuccess("stale ifb");
        net.Host.Exec("tc", "qdisc", "del", "dev", $"{net.Prefix}.a", "root").EnsureSuccess("lose a bucket");
        net.StartDaemon();

        var links = net.Host.Exec("ip", "-o", "link").Stdout;
        Assert.DoesNotContain($"{net.Prefix}.gone", links, StringComparison.Ordinal);
        Assert.Contains("rate 3Mbit", net.Host.Exec("tc", "qdisc", "show", "dev", $"{net.Prefix}.a").Stdout, StringComparison.Ordinal);
        Assert.Contains("rate 6Mbit", net.Host.Exec("tc", "qdisc", "show", "dev", $"{net.Prefix}-a").Stdout, StringComparison.Ordinal);
        Assert.Contains("mirred (Egress Redirect to device " + $"{net.Prefix}.a)", net.Host.Exec("tc", "filter", "show", "dev", $"{net.Prefix}-a", "ingress").Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// A policy swap forgets the sandbox's tracked connections within a quarter of a second of its answer (docs/
    /// operations.md). A measurement started before that would lose its connection's NAT mapping mid-stream (the
    /// server's next segment reaches the host's own stack, which resets it), so wait until the host tracks nothing of
    /// the sandbox's: the walk has run, or there was nothing to walk.
    /// </summary>
    private static void WaitForgotten(TestNetwork net, string address)
    {
        var mine = new System.Text.RegularExpressions.Regex($@"\b(src|dst)={System.Text.RegularExpressions.Regex.Escape(address)} ");
        Eventually.Until(() => !mine.IsMatch(net.Conntrack()), TimeSpan.FromSeconds(10), $"the host to forget the connections of {address}");
    }

    private static void WaitForServer(TestNetwork net, string ns) =>
        Eventually.Until(() => net.Reaches(ns, $"tcp:{TestNetwork.WebServer}:5201", 500), TimeSpan.FromSeconds(30), $"iperf3 -s to accept connections from {ns}");

    private static double Iperf(string ns, bool upload) => ArcBox.Testing.Iperf.Goodput(ns, TestNetwork.WebServer, reverse: !upload);

    /// <summary>TCP goodput is the shaped rate less the headers (about 4% at 1500 bytes): within 10% of the rate.</summary>
    private static void AssertRate(double measured, double rate, string what) =>
        Assert.True(measured >= rate * 0.90 && measured <= rate * 1.10, string.Create(CultureInfo.InvariantCulture, $"{what}: {measured / 1e6:F2} Mbit/s, not within 10% of {rate / 1e6:F0} Mbit/s"));

    private static List<string> RootLinks() =>
        [.. ProcessRunner.Run("ip", ["-o", "link", "show"]).EnsureSuccess("root links").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':')[1].Trim().Split('@')[0]).Order(StringComparer.Ordinal)];
}
