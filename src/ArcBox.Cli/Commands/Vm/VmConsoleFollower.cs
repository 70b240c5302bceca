using System.Globalization;
using ArcBox.Cli.Infrastructure;

namespace ArcBox.Cli.Commands.Vm;

/// <summary>Copies a VM's console to stdout as it grows, until the VM stops (or a deadline or Ctrl-C stops it).</summary>
public static class VmConsoleFollower
{
    public const int TimedOut = 124;
    public const int Interrupted = 130;

    public static async Task<int> FollowAsync(ApiClient client, string name, long offset, TimeSpan? timeout, bool stopOnInterrupt)
    {
        using var interrupt = Interrupt.Watch();
        var path = $"v1/sandboxes/{Uri.EscapeDataString(name)}/vm";
        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        using var stdout = Console.OpenStandardOutput();
        while (true)
        {
            var (bytes, headers) = await client.GetBytesAsync($"{path}/console?offset={offset}", CancellationToken.None);
            await stdout.WriteAsync(bytes);
            await stdout.FlushAsync();
            offset = long.Parse(headers.GetValues("X-Console-Offset").First(), CultureInfo.InvariantCulture);
            if (bytes.Length == 0 && headers.GetValues("X-Vm-State").First() != "running")
            {
                return ExitCodes.Success;
            }

            if (interrupt.Requested || DateTime.UtcNow > deadline)
            {
                var timedOut = !interrupt.Requested;
                if (!stopOnInterrupt && !timedOut)
                {
                    return Interrupted;
                }

                await client.SendAsync(HttpMethod.Post, $"{path}/stop?grace=0", ct: CancellationToken.None);
                Console.Error.WriteLine(timedOut ? $"arcbox: VM {name} stopped after {timeout!.Value.TotalSeconds:0.#} s (--timeout)" : $"arcbox: VM {name} stopped (interrupted)");
                return timedOut ? TimedOut : Interrupted;
            }

            // A guest that never stops printing must still stop at the deadline or on Ctrl-C: checked before
            // reading more.
            if (bytes.Length > 0)
            {
                continue;
            }

            await interrupt.WaitAsync(TimeSpan.FromMilliseconds(100));
        }
    }
}
