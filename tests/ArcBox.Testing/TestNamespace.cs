using System.Net.Sockets;

namespace ArcBox.Testing;

/// <summary>
/// A network namespace that exists for one test and is deleted by exact name afterwards, even when the test fails.
/// Names are unique per process and test, so parallel tests and several runs on one machine never collide.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    private static int counter;

    public TestNamespace(string tag)
    {
        Name = $"abt-{tag}-{Environment.ProcessId % 100000}-{Interlocked.Increment(ref counter)}";
        ProcessRunner.Run("ip", ["netns", "add", Name]).EnsureSuccess($"ip netns add {Name}");
        Exec("ip", "link", "set", "lo", "up").EnsureSuccess("lo up");
    }

    public string Name { get; }

    public ProcessResult Exec(string command, params string[] args) =>
        ProcessRunner.Run("ip", ["netns", "exec", Name, command, .. args]);

    public ProcessResult ExecWithInput(string stdin, string command, params string[] args) =>
        ProcessRunner.Run("ip", ["netns", "exec", Name, command, .. args], stdin);

    /// <summary>Loads an nft script (from stdin) inside the namespace.</summary>
    public ProcessResult Nft(string script) => ExecWithInput(script, "nft", "-f", "-");

    /// <summary>
    /// Waits until a socket of the namespace listens on (TCP) or is bound to (UDP) exactly ADDRESS:PORT as `ss`
    /// writes it ("0.0.0.0:9000", "203.0.113.53:53", "[::]:80"): a server started in the background is ready.
    /// </summary>
    public void WaitForListener(ProtocolType protocol, string address, int port)
    {
        var local = $"{address}:{port}";
        var kind = protocol switch
        {
            ProtocolType.Tcp => "--tcp",
            ProtocolType.Udp => "--udp",
            _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "TCP or UDP"),
        };

        // -H: no header; columns are State Recv-Q Send-Q Local Peer.
        Eventually.Until(
            () => Exec("ss", "-Hln", kind).EnsureSuccess("ss").Stdout,
            sockets => sockets.Split('\n').Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, _, var at, ..] && at == local),
            TimeSpan.FromSeconds(10),
            $"a {kind[2..]} socket on {local} in {Name}");
    }

    public void Dispose()
    {
        // Deleting the namespace removes its links and nft tables with it.
        ProcessRunner.Run("ip", ["netns", "del", Name]);
    }
}
