using System.Text.Json;

namespace ArcBox.Testing;

/// <summary>iperf3 runs from inside a namespace, for tests and benchmarks.</summary>
public static class Iperf
{
    /// <summary>
    /// Received TCP goodput in bit/s from a client in <paramref name="netnsPath"/> to <paramref name="server"/>
    /// (with <paramref name="reverse"/>, the server sends), the first second (slow start, a bucket's burst) left
    /// out. A server still busy with the previous test is retried, and so is one that reset the connection while it
    /// set up the test: iperf3 -s serves one client at a time, and a bare connect (a readiness probe) leaves it
    /// handling an aborted test, which resets the next client. Either way iperf3 may exit 0, with an "error" in its
    /// JSON.
    /// </summary>
    public static double Goodput(string netnsPath, string server, bool reverse, int seconds = 4)
    {
        string[] args = [$"--net={netnsPath}", "iperf3", "-c", server, "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-O", "1", "-J", .. reverse ? new[] { "-R" } : []];
        for (var attempt = 0; ; attempt++)
        {
            var run = ProcessRunner.Run("nsenter", args, timeoutMs: (seconds + 30) * 1000);
            if (attempt < 5 && (run.Stdout.Contains("the server is busy", StringComparison.Ordinal) || run.Stdout.Contains("\"unable to connect to server", StringComparison.Ordinal)))
            {
                Thread.Sleep(300);
                continue;
            }

            run.EnsureSuccess("iperf3");
            var root = JsonDocument.Parse(run.Stdout).RootElement;
            if (!root.TryGetProperty("end", out var end) || !end.TryGetProperty("sum_received", out var received))
            {
                throw new InvalidOperationException($"iperf3 exited 0 without a received sum: {run.Stdout}");
            }

            return received.GetProperty("bits_per_second").GetDouble();
        }
    }
}
