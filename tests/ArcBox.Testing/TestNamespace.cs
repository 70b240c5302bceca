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

    public void Dispose()
    {
        // Deleting the namespace removes its links and nft tables with it.
        ProcessRunner.Run("ip", ["netns", "del", Name]);
    }
}
