using System.Diagnostics;
using System.Net;
using ArcBox.Cli.Infrastructure;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.Netlink;

namespace ArcBox.Cli.Commands.Demo;

/// <summary>
/// The demo's throwaway world: a "host" namespace running a real daemon, an "internet" namespace behind its uplink
/// with web, DNS and SSH servers on TEST-NET addresses. Nothing touches the machine's own network namespace, and
/// everything is removed by exact name at the end.
/// </summary>
internal sealed class DemoWorld : IDisposable
{
    public const string Web = "203.0.113.10";
    public const string Ssh = "203.0.113.22";
    public const string Dns = "203.0.113.53";
    public const string Uplink = "198.51.100.1";
    public const string Router = "198.51.100.2";

    private readonly List<Process> processes = [];
    private readonly List<string> daemonLog = [];
    private Process? daemon;

    public DemoWorld()
    {
        Prefix = "d" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..4];
        HostName = $"arcbox-demo-{Prefix}-host";
        InternetName = $"arcbox-demo-{Prefix}-inet";
        Directory = System.IO.Directory.CreateTempSubdirectory("arcbox-demo-").FullName;
    }

    public string Prefix { get; }

    public string HostName { get; }

    public string InternetName { get; }

    public string Directory { get; }

    public string Socket => Path.Combine(Directory, "arcbox.sock");

    public string HostPath => NetworkNamespace.NamedPath(HostName);

    public string InternetPath => NetworkNamespace.NamedPath(InternetName);

    public string SandboxPath(string name) => NetworkNamespace.NamedPath($"arcbox-{Prefix}-{name}");

    public void Build()
    {
        using var hostNs = NetworkNamespace.CreateNamed(HostName);
        using var inetNs = NetworkNamespace.CreateNamed(InternetName);
        using var host = RouteNetlink.OpenIn(hostNs);
        using var inet = RouteNetlink.OpenIn(inetNs);
        host.SetLinkUp("lo");
        inet.SetLinkUp("lo");
        host.CreateVeth("up0", "eth0", inetNs);
        var up0 = host.LinkIndex("up0")!.Value;
        host.AddAddress(up0, "up0", IPAddress.Parse(Uplink), 24);
        host.SetLinkUp(up0, "up0");
        host.AddRoute(IPNetwork.Parse("0.0.0.0/0"), up0, "up0", IPAddress.Parse(Router));
        var eth0 = inet.LinkIndex("eth0")!.Value;
        inet.AddAddress(eth0, "eth0", IPAddress.Parse(Router), 24);
        inet.SetLinkUp(eth0, "eth0");
        var lo = inet.LinkIndex("lo")!.Value;
        foreach (var server in new[] { Web, Ssh, Dns })
        {
            inet.AddAddress(lo, "lo", IPAddress.Parse(server), 32);
        }

        File.WriteAllText(Path.Combine(Directory, "arcbox.yaml"), $"subnet: 10.0.0.0/24\nprefix: {Prefix}\nuplink: up0\n");
    }

    public void StartDaemon()
    {
        daemon = Self(HostPath, ["daemon", "--config", Path.Combine(Directory, "arcbox.yaml"), "--state-dir", Path.Combine(Directory, "state"), "--socket", Socket]);
        daemon.OutputDataReceived += (_, e) => Record(e.Data);
        daemon.ErrorDataReceived += (_, e) => Record(e.Data);
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (daemon.HasExited)
            {
                throw new CliException(ExitCodes.Failure, $"the demo daemon exited:\n{DaemonLog}");
            }

            if (File.Exists(Socket))
            {
                try
                {
                    using var api = new ApiClient(Socket);
                    api.SendAsync(HttpMethod.Get, "v1/health").GetAwaiter().GetResult();
                    return;
                }
                catch (CliException)
                {
                    // Not listening yet.
                }
            }

            Thread.Sleep(50);
        }

        throw new CliException(ExitCodes.Failure, "the demo daemon did not start within 30 s");
    }

    /// <summary>Starts `arcbox _tools serve` inside a namespace and waits until it listens.</summary>
    public void Serve(string namespacePath, string tcp, string? udp = null)
    {
        var args = new List<string> { "_tools", "serve", "--tcp", tcp };
        if (udp is not null)
        {
            args.AddRange(["--udp", udp]);
        }

        var p = Self(namespacePath, args);
        if (p.StandardOutput.ReadLine() != "ready")
        {
            throw new CliException(ExitCodes.Failure, $"a demo server in {namespacePath} did not start: {p.StandardError.ReadToEnd()}");
        }
    }

    /// <summary>Runs one of our tools inside a namespace to completion and returns its output.</summary>
    public string Run(string namespacePath, params string[] args)
    {
        var p = Self(namespacePath, args);
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    public string DaemonLog
    {
        get
        {
            lock (daemonLog)
            {
                return string.Join('\n', daemonLog);
            }
        }
    }

    public void Dispose()
    {
        foreach (var p in processes)
        {
            ChildProcess.KillTree(p);
        }

        if (System.IO.Directory.Exists(NetworkNamespace.NamedDirectory))
        {
            foreach (var path in System.IO.Directory.GetFiles(NetworkNamespace.NamedDirectory, $"arcbox-{Prefix}-*"))
            {
                NetworkNamespace.DeleteNamed(Path.GetFileName(path));
            }
        }

        NetworkNamespace.DeleteNamed(HostName);
        NetworkNamespace.DeleteNamed(InternetName);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory; nothing depends on it.
        }
    }

    /// <summary>This program again, inside a namespace (nsenter leaves our mounts alone, so /run/netns stays visible).</summary>
    private Process Self(string namespacePath, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add($"--net={namespacePath}");
        psi.ArgumentList.Add("--");
        var self = Environment.ProcessPath!;
        psi.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(DemoWorld).Assembly.Location);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        processes.Add(p);
        return p;
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            lock (daemonLog)
            {
                daemonLog.Add(line);
            }
        }
    }
}
