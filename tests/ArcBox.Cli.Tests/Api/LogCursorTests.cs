using ArcBox.Daemon.Logging;
using ArcBox.Daemon.Vms;

namespace ArcBox.Cli.Tests.Api;

public sealed class LogCursorTests
{
    [Fact]
    public void A_cursor_moves_past_the_highest_flow_and_dns_numbers_seen_whatever_their_times()
    {
        var t = DateTimeOffset.UnixEpoch;
        var entries = new[]
        {
            new LogEntry(t.AddSeconds(2), 7, "dns", "web", "local"),
            new LogEntry(t.AddSeconds(1), 12, "flow", "web", "drop"),
            new LogEntry(t.AddSeconds(3), 5, "dns", "web", "local"),
        };

        Assert.Equal(new LogCursor(12, 7), new LogCursor(3, 1).After(entries));
        Assert.Equal(new LogCursor(20, 7), new LogCursor(20, 1).After(entries));
        Assert.Equal("12:7", new LogCursor(12, 7).ToString());
        Assert.True(LogCursor.TryParse("12:7", out var c) && c == new LogCursor(12, 7));
        foreach (var bad in new[] { "", "12", "a:b", "-1:2", "1:2:3", "1: 2" })
        {
            Assert.False(LogCursor.TryParse(bad, out _), bad);
        }
    }

    [Fact]
    public void A_console_log_over_its_cap_is_emptied_and_a_small_one_is_left()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[1000]);
            Assert.False(VmConsole.Cap(path));
            Assert.Equal(1000, VmConsole.Length(path));

            using (var f = new FileStream(path, FileMode.Open))
            {
                f.SetLength(VmConsole.MaxBytes + 1);
            }

            Assert.True(VmConsole.Cap(path));
            Assert.Equal(0, VmConsole.Length(path));

            // A follower past the new end continues from the end.
            Assert.Equal((0, 0L), (VmConsole.Read(path, 5000).Bytes.Length, VmConsole.Read(path, 5000).Next));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
