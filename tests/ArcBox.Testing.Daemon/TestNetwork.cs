using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Sandboxes;

namespace ArcBox.Testing.Daemon;

/// <summary>
/// One throwaway world per test: a "host" namespace where a real `arcbox daemon` runs (started with nsenter, so
/// it sees the machine's mounts), an "internet" namespace behind the host's uplink with TEST-NET servers, and the
/// sandboxes the test creates. Everything is removed by exact name on dispose, also when the test failed.
/// </summary>
public sealed class TestNetwork : IDisposable
{
    public const string WebServer = "203.0.113.10";
    public const string SshServer = "203.0.113.22";
    public const string DnsServer = "203.0.113.53";
    public const string HostUplink = "198.51.100.1";
    public const string InternetRouter = "198.51.100.2";
    public const string WebServer6 = "2001:db8:cafe::10";

    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "arcbox.dll");
    private readonly List<Process> background = [];
    private readonly StringBuilder daemonLog = new();
    private readonly bool dualStack;
    private Process? daemon;

    public TestNetwork(string tag, bool dualStack = false, string subnet = "10.0.0.0/24", string configExtra = "")
    {
        this.dualStack = dualStack;
        Prefix = "t" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..5];
        Directory = System.IO.Directory.CreateTempSubdirectory($"arcbox-{tag}-").FullName;
        Subnet = subnet;
        Host = new TestNamespace($"{tag}h");
        Internet = new TestNamespace($"{tag}i");
        try
        {
            BuildUplink();
            File.WriteAllText(ConfigPath, $"subnet: {subnet}\nprefix: {Prefix}\nuplink: up0\n{(dualStack ? "subnet6: fd00:ab::/64\n" : "")}{configExtra}");
            StartDaemon();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Prefix { get; }

    public string Directory { get; }

    public string Subnet { get; }

    public TestNamespace Host { get; }

    public TestNamespace Internet { get; }

    public string Socket => Path.Combine(Directory, "arcbox.sock");

    public string StateDirectory => Path.Combine(Directory, "state");

    public string ConfigPath => Path.Combine(Directory, "arcbox.yaml");

    public string DaemonLog
    {
        get
        {
            lock (daemonLog)
            {
                return daemonLog.ToString();
            }
        }
    }

    public ApiClient Api() => new(Socket);

    public int DaemonPid => daemon?.Id ?? throw new InvalidOperationException("no daemon");

    /// <summary>Runs the CLI against this network's daemon (stdout, stderr, exit code).</summary>
    public ProcessResult Arcbox(params string[] args) =>
        ProcessRunner.Run("dotnet", [Cli, .. args], environment: new Dictionary<string, string> { ["ARCBOX_SOCKET"] = Socket });

    public JsonElement Create(string name, string? policyYaml = null, string? attach = null, string? ip = null, string? builtin = null)
    {
        using var api = Api();
        var policy = policyYaml is not null ? new PolicyInput(null, policyYaml, $"{name}.yaml") : builtin is not null ? new PolicyInput(builtin, null, null) : null;
        return api.SendAsync(HttpMethod.Post, "v1/sandboxes", new CreateRequest(name, attach, policy, ip, null)).GetAwaiter().GetResult();
    }

    public JsonElement Get(string path)
    {
        using var api = Api();
        return api.SendAsync(HttpMethod.Get, path).GetAwaiter().GetResult();
    }

    public void Remove(string name)
    {
        using var api = Api();
        api.SendAsync(HttpMethod.Delete, $"v1/sandboxes/{name}").GetAwaiter().GetResult();
    }

    public void SetPolicy(string name, string yaml)
    {
        using var api = Api();
        api.SendAsync(HttpMethod.Put, $"v1/sandboxes/{name}/policy", new PolicyInput(null, yaml, $"{name}.yaml")).GetAwaiter().GetResult();
    }

    public string NamespaceOf(string sandbox) => $"/run/netns/arcbox-{Prefix}-{sandbox}";

    /// <summary>Starts `arcbox _tools serve` inside a namespace and waits until it listens.</summary>
    public void Serve(string namespacePath, string? tcp = null, string? udp = null)
    {
        var args = new List<string> { $"--net={namespacePath}", "dotnet", Cli, "_tools", "serve" };
        if (tcp is not null)
        {
            args.AddRange(["--tcp", tcp]);
        }

        if (udp is not null)
        {
            args.AddRange(["--udp", udp]);
        }

        var p = Start("nsenter", args, redirect: true);
        background.Add(p);
        var line = p.StandardOutput.ReadLine();
        if (line != "ready")
        {
            throw new InvalidOperationException($"server in {namespacePath} did not start: {line} {p.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>Probes from inside a namespace; returns spec to result ("open ...", "timeout", "closed ...").</summary>
    public Dictionary<string, string> Probe(string namespacePath, IEnumerable<string> specs, int timeoutMs = 1000)
    {
        var list = specs.ToList();
        var r = ProcessRunner.Run("nsenter", [$"--net={namespacePath}", "dotnet", Cli, "_tools", "probe", "--stdin", "--timeout-ms", timeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture)], string.Join('\n', list) + "\n");
        r.EnsureSuccess("probe");
        var results = new Dictionary<string, string>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            results[line[..space]] = line[(space + 1)..];
        }

        return results;
    }

    public bool Reaches(string namespacePath, string spec, int timeoutMs = 1000) =>
        Probe(namespacePath, [spec], timeoutMs)[spec].StartsWith("open", StringComparison.Ordinal);

    public string NftList(string what) => Host.Exec("nft", "list", what).Stdout;

    /// <summary>Packets counted so far by a named counter of our inet table.</summary>
    public long Counter(string name)
    {
        var text = Host.Exec("nft", "list", "counter", "inet", $"arcbox-{Prefix}", name).EnsureSuccess($"list counter {name}").Stdout;
        return long.Parse(System.Text.RegularExpressions.Regex.Match(text, @"packets (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The host namespace's connection tracking table, one entry a line (/proc/net/nf_conntrack).</summary>
    public string Conntrack() => Host.Exec("cat", "/proc/net/nf_conntrack").EnsureSuccess("read conntrack").Stdout;

    /// <summary>
    /// Waits until the host tracks a TCP connection from SOURCE to DESTINATION:PORT as ESTABLISHED, i.e. its
    /// handshake is done: a connection a test then expects to survive something, or to be cut by it, exists.
    /// </summary>
    public void WaitForEstablished(string source, string destination, int port)
    {
        // The original direction comes first in an entry: "ESTABLISHED src=S dst=D sport=N dport=P src=D ...".
        var entry = new Regex($@"\bESTABLISHED src={Regex.Escape(source)} dst={Regex.Escape(destination)} sport=\d+ dport={port} ");
        Eventually.Until(Conntrack, entry.IsMatch, TimeSpan.FromSeconds(10), $"an established connection {source} -> {destination}:{port} in the host's conntrack");
    }

    /// <summary>ARP packets dropped by our arp table's input chain (forged senders and MACs).</summary>
    public long ArpDrops()
    {
        var text = Host.Exec("nft", "list", "chain", "arp", $"arcbox-{Prefix}", "arp_input").EnsureSuccess("list arp_input").Stdout;
        return long.Parse(System.Text.RegularExpressions.Regex.Match(text, @"packets (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs tests/tools/SCRIPT with Debian's python3 inside a namespace.</summary>
    public ProcessResult Python(string namespacePath, string script, params string[] args) =>
        ProcessRunner.Run("nsenter", [$"--net={namespacePath}", "/usr/bin/python3", Path.Combine(RepoPaths.Root, "tests", "tools", script), .. args]);

    /// <summary>Starts a long-running tests/tools script inside a namespace and waits for its "ready" line.</summary>
    public void PythonServer(string namespacePath, string script, params string[] args)
    {
        var p = Start("nsenter", [$"--net={namespacePath}", "/usr/bin/python3", Path.Combine(RepoPaths.Root, "tests", "tools", script), .. args], redirect: true);
        background.Add(p);
        if (p.StandardOutput.ReadLine() != "ready")
        {
            throw new InvalidOperationException($"{script} did not start: {p.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>Starts any command inside a namespace in the background; it is killed on dispose.</summary>
    public Process Background(string namespacePath, IEnumerable<string> command) => Background(namespacePath, command.ToArray());

    public Process Background(string namespacePath, params string[] command)
    {
        var p = Start("nsenter", [$"--net={namespacePath}", "--", .. command], redirect: true);
        background.Add(p);
        return p;
    }

    public Process StartPython(string namespacePath, string script, params string[] args)
    {
        var p = Start("nsenter", [$"--net={namespacePath}", "/usr/bin/python3", Path.Combine(RepoPaths.Root, "tests", "tools", script), .. args], redirect: true);
        background.Add(p);
        return p;
    }

    /// <summary>kill -9: the kernel state stays exactly as the daemon left it.</summary>
    public void KillDaemon()
    {
        if (daemon is { HasExited: false })
        {
            daemon.Kill();
            daemon.WaitForExit(10_000);
        }
    }

    public void StartDaemon()
    {
        daemon = Start("nsenter", [$"--net={NetnsPath(Host)}", "dotnet", Cli, "daemon", "--config", ConfigPath, "--state-dir", StateDirectory, "--socket", Socket], redirect: true);
        daemon.OutputDataReceived += (_, e) => Append(e.Data);
        daemon.ErrorDataReceived += (_, e) => Append(e.Data);
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (daemon.HasExited)
            {
                throw new InvalidOperationException($"daemon exited with {daemon.ExitCode}:\n{DaemonLog}");
            }

            if (File.Exists(Socket))
            {
                try
                {
                    using var api = Api();
                    api.SendAsync(HttpMethod.Get, "v1/health").GetAwaiter().GetResult();
                    return;
                }
                catch (CliException)
                {
                    // Not accepting yet.
                }
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException("daemon did not answer within 30 s:\n" + DaemonLog);
    }

    public void StopDaemon()
    {
        if (daemon is { HasExited: false })
        {
            ProcessRunner.Run("kill", ["-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (!daemon.WaitForExit(15_000))
            {
                daemon.Kill();
            }
        }
    }

    public static string NetnsPath(TestNamespace ns) => $"/run/netns/{ns.Name}";

    public void Dispose()
    {
        KillVms();
        foreach (var p in background)
        {
            ChildProcess.KillTree(p);
        }

        if (daemon is not null)
        {
            ChildProcess.KillTree(daemon);
        }

        if (System.IO.Directory.Exists("/run/netns"))
        {
            foreach (var ns in System.IO.Directory.GetFiles("/run/netns", $"arcbox-{Prefix}-*"))
            {
                ProcessRunner.Run("ip", ["netns", "del", Path.GetFileName(ns)]);
            }
        }

        Host.Dispose();
        Internet.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory.
        }
    }

    /// <summary>QEMU daemonizes, so it is no child of ours: each VM of this network is found by its pidfile and
    /// killed only when that process's command line names this network's directory.</summary>
    private void KillVms()
    {
        var vms = Path.Combine(StateDirectory, "vms");
        if (!System.IO.Directory.Exists(vms))
        {
            return;
        }

        foreach (var pidFile in System.IO.Directory.GetFiles(vms, "qemu.pid", SearchOption.AllDirectories))
        {
            try
            {
                var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(Directory, StringComparison.Ordinal))
                {
                    using var qemu = Process.GetProcessById(pid);
                    qemu.Kill();
                    qemu.WaitForExit(10_000);
                }
            }
            catch (Exception e) when (e is IOException or FormatException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Already gone.
            }
        }
    }

    private static Process Start(string file, IEnumerable<string> args, bool redirect)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = redirect, RedirectStandardError = redirect, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (daemonLog)
            {
                daemonLog.AppendLine(line);
            }
        }
    }

    private void BuildUplink()
    {
        Host.Exec("ip", "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", Internet.Name).EnsureSuccess("uplink veth");
        Host.Exec("ip", "addr", "add", $"{HostUplink}/24", "dev", "up0").EnsureSuccess("uplink address");
        Host.Exec("ip", "link", "set", "up0", "up").EnsureSuccess("uplink up");
        Host.Exec("ip", "route", "add", "default", "via", InternetRouter).EnsureSuccess("default route");
        Internet.Exec("ip", "addr", "add", $"{InternetRouter}/24", "dev", "eth0").EnsureSuccess("internet address");
        Internet.Exec("ip", "link", "set", "eth0", "up").EnsureSuccess("internet up");
        foreach (var server in new[] { WebServer, SshServer, DnsServer })
        {
            Internet.Exec("ip", "addr", "add", $"{server}/32", "dev", "lo").EnsureSuccess("server address");
        }

        Internet.Exec("ip", "route", "add", Subnet, "via", HostUplink).EnsureSuccess("route to the sandboxes");
        if (dualStack)
        {
            Host.Exec("ip", "addr", "add", "2001:db8:1::1/64", "dev", "up0", "nodad").EnsureSuccess("uplink v6");
            Host.Exec("ip", "-6", "route", "add", "default", "via", "2001:db8:1::2").EnsureSuccess("v6 default");
            Internet.Exec("ip", "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad").EnsureSuccess("internet v6");
            Internet.Exec("ip", "addr", "add", $"{WebServer6}/128", "dev", "lo").EnsureSuccess("server v6");
        }
    }
}
