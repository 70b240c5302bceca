using System.Net;
using ArcBox.Linux;
using ArcBox.Linux.Devices;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Netlink;
using ArcBox.Linux.Nftables;
using ArcBox.Netfilter.Wire;
using ArcBox.Testing;

namespace ArcBox.Integration.Tests.Linux;

/// <summary>The interop layer against the real kernel, inside namespaces the tests create (never the root one).</summary>
public class InteropTests
{
    private static string? WhyNot => Root.WhyNot("ip", "nft");

    [Fact]
    public void Named_namespace_is_created_visible_to_iproute2_and_deleted()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        var name = $"abt-ns-{Environment.ProcessId % 100000}-{Random.Shared.Next(100000)}";
        try
        {
            using (var ns = NetworkNamespace.CreateNamed(name))
            {
                Assert.Contains(name, ProcessRunner.Run("ip", ["netns", "list"]).Stdout, StringComparison.Ordinal);
                var lo = ProcessRunner.Run("ip", ["netns", "exec", name, "ip", "-o", "link"]).EnsureSuccess("ip link").Stdout;
                Assert.Contains("lo:", lo, StringComparison.Ordinal);
            }

            Assert.True(NetworkNamespace.DeleteNamed(name));
            Assert.DoesNotContain(name, ProcessRunner.Run("ip", ["netns", "list"]).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            NetworkNamespace.DeleteNamed(name);
        }

        Assert.Empty(ThreadNamespaces.ThreadsOutsideProcessNamespace());
    }

    [Fact]
    public void Veth_with_peer_in_its_namespace_addresses_routes_and_traffic()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var host = new TestNamespace("ihost");
        using var sbx = new TestNamespace("isbx");
        using var hostNs = NetworkNamespace.Open(NetworkNamespace.NamedPath(host.Name));
        using var sbxNs = NetworkNamespace.Open(NetworkNamespace.NamedPath(sbx.Name));
        using var hostLinks = RouteNetlink.OpenIn(hostNs);
        using var sbxLinks = RouteNetlink.OpenIn(sbxNs);

        hostLinks.CreateVeth("ab-t1", "eth0", sbxNs, "02:00:00:00:00:42");
        var hostIndex = hostLinks.LinkIndex("ab-t1")!.Value;
        var sbxIndex = sbxLinks.LinkIndex("eth0")!.Value;
        Assert.Null(hostLinks.LinkIndex("eth0"));
        hostLinks.AddAddress(hostIndex, "ab-t1", IPAddress.Parse("10.9.0.1"), 32);
        hostLinks.SetLinkUp("ab-t1");
        hostLinks.AddRoute(IPNetwork.Parse("10.9.0.2/32"), hostIndex, "ab-t1");
        sbxLinks.AddAddress(sbxIndex, "eth0", IPAddress.Parse("10.9.0.2"), 24);
        sbxLinks.SetLinkUp(sbxIndex, "eth0");
        sbxLinks.AddRoute(IPNetwork.Parse("0.0.0.0/0"), sbxIndex, "eth0", IPAddress.Parse("10.9.0.1"), onlink: true);

        var link = sbx.Exec("ip", "-o", "link", "show", "eth0").EnsureSuccess("ip link").Stdout;
        Assert.Contains("02:00:00:00:00:42", link, StringComparison.Ordinal);
        sbx.Exec("ping", "-c", "1", "-W", "2", "10.9.0.1").EnsureSuccess("ping the host side");

        var duplicate = Assert.Throws<KernelException>(() => hostLinks.CreateVeth("ab-t1", "eth1", sbxNs));
        Assert.Equal(Errno.EEXIST, duplicate.Errno);
        Assert.Contains("add link ab-t1 type veth", duplicate.Message, StringComparison.Ordinal);
        Assert.Contains("EEXIST", duplicate.Message, StringComparison.Ordinal);

        Assert.True(hostLinks.DeleteLink("ab-t1"));
        Assert.False(hostLinks.DeleteLink("ab-t1"));
        Assert.Null(sbxLinks.LinkIndex("eth0"));
        Assert.Empty(ThreadNamespaces.ThreadsOutsideProcessNamespace());
    }

    [Fact]
    public void Nftables_context_applies_transactions_in_its_namespace_and_failures_change_nothing()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var host = new TestNamespace("inft");
        using var ns = NetworkNamespace.Open(NetworkNamespace.NamedPath(host.Name));
        using var nft = NftablesContext.OpenIn(ns);
        nft.Run("table inet abtest {\n chain c {\n }\n}\n");
        Assert.Contains("abtest", host.Exec("nft", "list", "tables").Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("abtest", ProcessRunner.Run("nft", ["list", "tables"]).Stdout, StringComparison.Ordinal);

        var ex = Assert.Throws<NftablesException>(() => nft.Run("add chain inet abtest d\nadd rule inet abtest nosuchchain accept"));
        Assert.Contains("No such file or directory", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("chain d", host.Exec("nft", "list", "table", "inet", "abtest").Stdout, StringComparison.Ordinal);
        Assert.Contains("\"table\"", nft.List("list table inet abtest", json: true), StringComparison.Ordinal);
        Assert.Empty(ThreadNamespaces.ThreadsOutsideProcessNamespace());
    }

    [Fact]
    public void A_refused_netlink_batch_keeps_the_kernels_error_and_errno_inside()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var host = new TestNamespace("inlb");
        using var ns = NetworkNamespace.Open(NetworkNamespace.NamedPath(host.Name));
        using var nft = NftablesContext.OpenIn(ns);
        using var wire = NftNetlink.OpenIn(ns);
        nft.Run("table inet abtest {\n chain c {\n }\n}\n");
        WireOperation[] operations = [new WireAddChain("inet", "d"), new WireDeleteChain("inet", "nosuchchain")];

        var ex = Assert.Throws<NftablesException>(() => wire.Commit(WireEncoder.Encode("abtest", operations), i => WireEncoder.Describe(operations[i])));
        var kernel = Assert.IsType<KernelException>(ex.InnerException);
        Assert.Equal(Errno.ENOENT, kernel.Errno);
        Assert.Equal(Errno.ENOENT, ex.Errno);
        Assert.Equal("delete chain inet nosuchchain", kernel.Operation);

        // Outer to inner: what we were doing, which step, why the kernel refused.
        Assert.Equal($"nft transaction: {kernel.Message}", ex.Message);
        Assert.StartsWith("nft transaction: delete chain inet nosuchchain: ENOENT (No such file or directory)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("chain d", host.Exec("nft", "list", "table", "inet", "abtest").Stdout, StringComparison.Ordinal);
        Assert.Empty(ThreadNamespaces.ThreadsOutsideProcessNamespace());
    }

    [Fact]
    public void Tap_is_persistent_and_owned()
    {
        Assert.SkipWhen(WhyNot is not null || !File.Exists("/dev/net/tun"), WhyNot ?? "needs /dev/net/tun");
        using var host = new TestNamespace("itap");
        using var ns = NetworkNamespace.Open(NetworkNamespace.NamedPath(host.Name));
        ns.Run(() =>
        {
            TapDevice.CreatePersistent("ab-tap1", 1234, null);
            return 0;
        }, "create tap");
        var link = host.Exec("ip", "-d", "link", "show", "ab-tap1").EnsureSuccess("ip link").Stdout;
        Assert.Contains("tun type tap", link, StringComparison.Ordinal);
        Assert.Contains("user 1234", link, StringComparison.Ordinal);
        Assert.Contains("vnet_hdr", link, StringComparison.Ordinal);
        Assert.Empty(ThreadNamespaces.ThreadsOutsideProcessNamespace());
    }

    [Fact]
    public void Sysctl_is_set_in_the_namespace_it_names()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var host = new TestNamespace("isys");
        using var ns = NetworkNamespace.Open(NetworkNamespace.NamedPath(host.Name));
        var rootBefore = Sysctl.Get("net.ipv4.ip_forward");
        Sysctl.Set("net.ipv4.ip_forward", "1", ns);
        Assert.Equal("1", host.Exec("cat", "/proc/sys/net/ipv4/ip_forward").Stdout.Trim());
        Assert.Equal(rootBefore, Sysctl.Get("net.ipv4.ip_forward"));
    }
}
