using System.Net;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Policy;

namespace ArcBox.Daemon.Tests.Sandboxes;

public sealed class SandboxTableTests
{
    [Fact]
    public void Indexes_follow_every_add_replace_and_remove()
    {
        var web = Sandbox("web", "10.0.0.2", new Attachment.Netns("/run/netns/arcbox-ab-web"), null);
        var vm = Sandbox("vm", "10.0.0.3", new Attachment.Tap(null, null), 7);
        var table = SandboxTable.Empty.With(web).With(vm);

        Assert.Equal(["vm", "web"], table.All().Select(s => s.Name));
        Assert.Equal("web", table.OwnerOfInterface("ab-web"));
        Assert.Equal("vm", table.OwnerOfAddress(IPAddress.Parse("10.0.0.3")));
        Assert.Equal("web", table.OwnerOfNamespace("/run/netns/arcbox-ab-web"));
        Assert.Same(vm, table.OfLinkIndex(7));

        // A TAP made again gets another index: the old one no longer finds it.
        var remade = vm with { LinkIndex = 9 };
        var next = table.With(remade);
        Assert.Null(next.OfLinkIndex(7));
        Assert.Same(remade, next.OfLinkIndex(9));
        Assert.Equal(2, next.Count);

        var without = next.Without("web");
        Assert.Null(without.OwnerOfInterface("ab-web"));
        Assert.Null(without.OwnerOfAddress(IPAddress.Parse("10.0.0.2")));
        Assert.Null(without.OwnerOfNamespace("/run/netns/arcbox-ab-web"));
        Assert.Same(without, without.Without("web"));

        // Every table stays as it was made.
        Assert.Equal("web", table.OwnerOfInterface("ab-web"));
        Assert.Same(vm, table.OfLinkIndex(7));
    }

    [Fact]
    public void An_unknown_sandbox_is_not_found()
    {
        var error = Assert.Throws<RequestException>(() => SandboxTable.Empty.Get("nobody"));
        Assert.Equal(ErrorCode.NotFound, error.Code);
        Assert.Null(SandboxTable.Empty.Find("nobody"));
    }

    private static Sandbox Sandbox(string name, string ipv4, Attachment attachment, int? linkIndex) => new(
        new SandboxRecord(name, attachment, IPAddress.Parse(ipv4), null, "02:00:00:00:00:01", "ab-" + name, "default", BuiltinPolicies.DefaultYaml, true, DateTimeOffset.UnixEpoch),
        BuiltinPolicies.Default,
        linkIndex);
}
