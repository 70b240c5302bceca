using ArcBox.Daemon.Sandboxes;

namespace ArcBox.Daemon.Tests.Sandboxes;

public sealed class AttachmentTests
{
    private const string Own = "/run/netns/arcbox-ab-web";

    [Fact]
    public void Each_form_parses_to_its_type_and_back_to_its_text()
    {
        Assert.Equal(new Attachment.Netns(Own), Attachment.Parse(null, Own));
        Assert.Equal(new Attachment.Netns(Own), Attachment.Parse("netns", Own));
        Assert.Equal(new Attachment.Tap(null, null), Attachment.Parse("tap", Own));
        var path = Path.GetTempFileName();
        try
        {
            Assert.Equal(new Attachment.NetnsPath(path), Attachment.Parse("netns:" + path, Own));
        }
        finally
        {
            File.Delete(path);
        }

        var self = Attachment.Parse($"pid:{Environment.ProcessId}", Own);
        Assert.Equal(new Attachment.Pid(Environment.ProcessId, Own), self);
        Assert.Equal($"pid:{Environment.ProcessId}", self.Text);
        Assert.True(self.OwnsNamespaceName);
        Assert.False(new Attachment.NetnsPath("/x").OwnsNamespaceName);
    }

    [Theory]
    [InlineData("vm", "unknown attach 'vm'")]
    [InlineData("netns:", "is not an existing namespace file")]
    [InlineData("netns:relative/path", "is not an existing namespace file")]
    [InlineData("netns:/nonexistent/ns", "is not an existing namespace file")]
    [InlineData("pid:0", "is not a process id")]
    [InlineData("pid:-4", "is not a process id")]
    [InlineData("pid:12ab", "is not a process id")]
    [InlineData("pid:999999999", "no such process")]
    public void Bad_forms_are_refused_naming_the_problem(string text, string message)
    {
        var error = Assert.Throws<RequestException>(() => Attachment.Parse(text, Own));
        Assert.Equal(ErrorCode.Invalid, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1000", 1000u, null)]
    [InlineData("1000:1001", 1000u, 1001u)]
    public void Tap_owners_are_uid_or_uid_and_gid(string owner, uint uid, uint? gid) =>
        Assert.Equal(new Attachment.Tap(uid, gid), Attachment.Tap.WithOwner(owner));

    [Theory]
    [InlineData("root")]
    [InlineData("1000:")]
    [InlineData("1:2:3")]
    [InlineData("-1")]
    public void Bad_tap_owners_are_refused(string owner) =>
        Assert.Contains("expected UID or UID:GID", Assert.Throws<RequestException>(() => Attachment.Tap.WithOwner(owner)).Message, StringComparison.Ordinal);

    [Fact]
    public void Stored_attachments_come_back_as_they_were_stored()
    {
        foreach (var a in new Attachment[] { new Attachment.Netns(Own), new Attachment.NetnsPath("/run/netns/ctr"), new Attachment.Pid(42, Own), new Attachment.Tap(7, 8) })
        {
            var tap = a as Attachment.Tap;
            Assert.Equal(a, Attachment.FromStored(a.Text, a.NamespacePath, tap?.Uid, tap?.Gid));
        }

        Assert.Throws<InvalidDataException>(() => Attachment.FromStored("vm", null, null, null));
    }
}
