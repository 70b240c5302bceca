using ArcBox.Testing;
using ArcBox.Testing.Daemon;
using System.Text.Json;
using ArcBox.Daemon.Sandboxes;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Create and remove leave nothing behind; concurrent requests end consistent.</summary>
public class LifecycleTests
{
    [Fact]
    public async Task Two_hundred_create_rm_cycles_leave_nothing_behind()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        using var net = new TestNetwork("cycle");
        var baseline = Snapshot(net);
        var policy = File.ReadAllText(Path.Combine(ArcBox.Testing.RepoPaths.Examples, "seed.yaml"));
        for (var i = 0; i < 200; i++)
        {
            var kind = i % 4;
            var name = $"c{i}";
            net.Create(name, kind == 1 ? policy : null, attach: kind == 3 ? "tap" : null);
            net.Remove(name);
        }

        Assert.Equal(baseline, Snapshot(net));
        Assert.Empty(Directory.GetFiles("/run/netns", $"arcbox-{net.Prefix}-*"));
        using var api = net.Api();
        Assert.Equal(0, (await api.SendAsync(HttpMethod.Get, "v1/sandboxes", ct: TestContext.Current.CancellationToken)).GetArrayLength());
    }

    [Fact]
    public async Task Fifty_concurrent_creates_end_consistent()
    {
        Assert.SkipWhen(Needs.Root is not null, Needs.Root ?? "");
        var ct = TestContext.Current.CancellationToken;
        using var net = new TestNetwork("conc");
        var created = (await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(
            async () =>
            {
                using var api = net.Api();
                return await api.SendAsync(HttpMethod.Post, "v1/sandboxes", new CreateRequest($"s{i}", i % 5 == 0 ? "tap" : null, null, null, null), ct);
            },
            ct)))).ToList();
        Assert.Equal(50, created.Select(c => c.GetProperty("ipv4").GetString()).Distinct().Count());
        Assert.Equal(50, created.Select(c => c.GetProperty("mac").GetString()).Distinct().Count());

        using var client = net.Api();
        var listed = await client.SendAsync(HttpMethod.Get, "v1/sandboxes", ct: ct);
        Assert.Equal(50, listed.GetArrayLength());
        var links = net.Host.Exec("ip", "-o", "link").Stdout;
        var ruleset = net.NftList("ruleset");
        foreach (var s in listed.EnumerateArray())
        {
            Assert.Matches($@"\d+: {s.GetProperty("hostInterface").GetString()}[@:]", links);
            Assert.Contains($"chain sb_{s.GetProperty("name").GetString()}_out", ruleset, StringComparison.Ordinal);
        }

        // Remove half concurrently too; the rest stays intact.
        await Task.WhenAll(Enumerable.Range(0, 25).Select(i => Task.Run(
            async () =>
            {
                using var api = net.Api();
                await api.SendAsync(HttpMethod.Delete, $"v1/sandboxes/s{i * 2}", ct: ct);
            },
            ct)));
        Assert.Equal(25, (await client.SendAsync(HttpMethod.Get, "v1/sandboxes", ct: ct)).GetArrayLength());
        Assert.Equal(25, Directory.GetFiles("/run/netns", $"arcbox-{net.Prefix}-*").Length + created.Count(c => c.GetProperty("attach").GetString() == "tap" && int.Parse(c.GetProperty("name").GetString()![1..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 1));
    }

    /// <summary>
    /// Links, addresses, routes and our nft tables as the kernel lists them. IPv6 link-local addresses and the
    /// per-link multicast routes come and go with their links (and with DAD of the test's own uplink), so they are
    /// left out; the links themselves are compared.
    /// </summary>
    private static string Snapshot(TestNetwork net) => string.Join(
        "\n---\n",
        string.Join('\n', net.Host.Exec("ip", "-o", "link").Stdout.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"^\d+: ", "")).Order()),
        string.Join('\n', net.Host.Exec("ip", "-o", "addr").Stdout.Split('\n').Where(Stable).Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"^\d+: ", "")).Order()),
        string.Join('\n', net.Host.Exec("ip", "route", "show", "table", "all").Stdout.Split('\n').Where(Stable)),
        System.Text.RegularExpressions.Regex.Replace(net.Host.Exec("nft", "list", "table", "inet", $"arcbox-{net.Prefix}").Stdout, @"packets \d+ bytes \d+", ""),
        net.Host.Exec("nft", "list", "table", "arp", $"arcbox-{net.Prefix}").Stdout);

    private static bool Stable(string line) => !line.Contains("fe80::", StringComparison.Ordinal) && !line.Contains("ff00::/8", StringComparison.Ordinal);
}
