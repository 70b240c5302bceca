using System.Diagnostics;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Daemon;

/// <summary>`arcbox top` in a real terminal (tmux): it shows the sandboxes and their denied flows, and q quits.</summary>
public class TopTests
{
    private static string? WhyNot => Needs.Root ?? Root.WhyNot("tmux");

    [Fact]
    public void Top_renders_rates_and_denied_flows_under_tmux_and_quits_on_q()
    {
        Assert.SkipWhen(WhyNot is not null, WhyNot ?? "");
        using var net = new TestNetwork("top");
        net.Create("web", "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n");
        Assert.False(net.Reaches(net.NamespaceOf("web"), $"tcp:{TestNetwork.SshServer}:22", 500));
        var session = $"arcbox-top-{net.Prefix}";
        var cli = Path.Combine(AppContext.BaseDirectory, "arcbox.dll");
        try
        {
            ProcessRunner.Run("tmux", ["new-session", "-d", "-s", session, "-x", "160", "-y", "40", $"env ARCBOX_SOCKET='{net.Socket}' dotnet '{cli}' top --interval 0.5"])
                .EnsureSuccess("tmux new-session");
            var screen = WaitForScreen(session, s => s.Contains("web", StringComparison.Ordinal) && s.Contains("203.0.113.22:22", StringComparison.Ordinal) && s.Contains("UP/s", StringComparison.Ordinal));
            Assert.Contains("latest denied", screen, StringComparison.Ordinal);
            Assert.Contains("default", screen, StringComparison.Ordinal);

            ProcessRunner.Run("tmux", ["send-keys", "-t", session, "q"]).EnsureSuccess("send q");
            var clock = Stopwatch.StartNew();
            while (ProcessRunner.Run("tmux", ["has-session", "-t", session]).ExitCode == 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "top did not quit on q");
                Thread.Sleep(100);
            }
        }
        finally
        {
            ProcessRunner.Run("tmux", ["kill-session", "-t", session]);
        }
    }

    private static string WaitForScreen(string session, Func<string, bool> ready)
    {
        var clock = Stopwatch.StartNew();
        var screen = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            screen = ProcessRunner.Run("tmux", ["capture-pane", "-p", "-t", session]).Stdout;
            if (ready(screen))
            {
                return screen;
            }

            Thread.Sleep(200);
        }

        throw new TimeoutException("top never showed what was expected:\n" + screen);
    }
}
