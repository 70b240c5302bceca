using System.Diagnostics;
using System.Globalization;
using System.Text;
using ArcBox.Daemon.Vms;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Integration.Tests.Vm;

/// <summary>
/// A real guest on a tap sandbox, started through the daemon's API with a probe script. The guest prints lines
/// starting with "ARCBOX-" on its serial console; this reads the console through the API and parses them.
/// Every wait is bounded; a timeout reports the whole console so far.
/// </summary>
public sealed class VmGuest
{
    private readonly TestNetwork net;
    private readonly StringBuilder console = new();
    private long offset;
    private int scanned;

    private VmGuest(TestNetwork net, string name)
    {
        this.net = net;
        Name = name;
    }

    /// <summary>Null when VM tests can run here, else why not.</summary>
    public static string? WhyNot => ArcBox.Integration.Tests.Daemon.Needs.Root ?? VmImage.Unavailable;

    public string Name { get; }

    public string Console => console.ToString();

    public bool Stopped { get; private set; }

    /// <summary>Boots the probe on an existing tap sandbox.</summary>
    public static VmGuest Start(TestNetwork net, string sandbox, string probe, string? append = null)
    {
        var image = VmImage.Instance;
        var initrd = image.InitrdWith(probe, net.Directory);
        using var api = net.Api();
        api.SendAsync(HttpMethod.Post, $"v1/sandboxes/{sandbox}/vm", new VmRequest(image.Kernel, initrd, append, 192, 1, null)).GetAwaiter().GetResult();
        return new VmGuest(net, sandbox);
    }

    /// <summary>Waits for the first console line starting with PREFIX after the last line returned.</summary>
    public string WaitFor(string prefix, double seconds = 60)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var lines = Console.Split('\n');
            for (; scanned < lines.Length - 1; scanned++)
            {
                var line = lines[scanned].TrimEnd('\r');
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    scanned++;
                    return line;
                }
            }

            if (Stopped)
            {
                throw new InvalidOperationException($"VM {Name} stopped before printing '{prefix}'. Console:\n{Console}");
            }

            if (deadline.Elapsed.TotalSeconds > seconds)
            {
                throw new TimeoutException($"VM {Name} did not print '{prefix}' within {seconds} s. Console:\n{Console}\nDaemon:\n{net.DaemonLog}");
            }

            if (!Poll())
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Waits for ARCBOX-DONE and returns every probe: name to "ok ..." or "fail ...".</summary>
    public Dictionary<string, string> WaitDone(double seconds = 60)
    {
        var done = WaitFor("ARCBOX-DONE", seconds);
        Assert.True(done == "ARCBOX-DONE 0", $"the probe script failed ({done}). Console:\n{Console}");
        return Probes();
    }

    public Dictionary<string, string> Probes()
    {
        var probes = new Dictionary<string, string>();
        foreach (var line in Console.Split('\n'))
        {
            var parts = line.TrimEnd('\r').Split(' ', 3);
            if (parts is ["ARCBOX-PROBE", var name, ..])
            {
                probes[name] = parts.Length > 2 ? parts[2] : "";
            }
        }

        return probes;
    }

    /// <summary>Asserts each named probe ended ok (true) or fail (false), with the console when one did not.</summary>
    public void AssertProbes(IReadOnlyDictionary<string, string> probes, params (string Name, bool Ok)[] expected)
    {
        var wrong = expected
            .Where(e => !probes.TryGetValue(e.Name, out var r) || r.StartsWith("ok", StringComparison.Ordinal) != e.Ok)
            .Select(e => $"{e.Name}: expected {(e.Ok ? "ok" : "fail")}, got {(probes.TryGetValue(e.Name, out var r) ? r : "nothing")}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join('\n', wrong) + "\nConsole:\n" + Console);
    }

    public void Stop()
    {
        using var api = net.Api();
        api.SendAsync(HttpMethod.Post, $"v1/sandboxes/{Name}/vm/stop?grace=0").GetAwaiter().GetResult();
        Stopped = true;
    }

    /// <summary>Reads what the console gained; false when nothing was new.</summary>
    private bool Poll()
    {
        using var api = net.Api();
        var (bytes, headers) = api.GetBytesAsync($"v1/sandboxes/{Name}/vm/console?offset={offset}").GetAwaiter().GetResult();
        offset = long.Parse(headers.GetValues("X-Console-Offset").First(), CultureInfo.InvariantCulture);
        console.Append(Encoding.UTF8.GetString(bytes));
        if (bytes.Length == 0 && headers.GetValues("X-Vm-State").First() != "running")
        {
            Stopped = true;
        }

        return bytes.Length > 0;
    }

    /// <summary>The QEMU processes of a test network, found by their command line (they are no children of ours).</summary>
    public static List<int> QemuOf(TestNetwork net) =>
        [.. Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadCmdline(pid) is var c && c.StartsWith("qemu", StringComparison.Ordinal) && c.Contains(net.Directory, StringComparison.Ordinal))];

    private static string ReadCmdline(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }
}
