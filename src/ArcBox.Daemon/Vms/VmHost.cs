using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ArcBox.Daemon.Api;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.State;
using ArcBox.Dhcp.Protocol;
using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Vms;

/// <summary>
/// Starts, finds and stops the QEMU microVMs of TAP sandboxes. QEMU runs daemonized, outside the daemon: a daemon
/// restart neither stops a VM nor loses track of it (its pid file and QMP socket are in STATE/vms/NAME).
/// </summary>
public sealed class VmHost(string stateDirectory, string qemuBinary, ILogger log)
{
    /// <summary>How long the KVM probe guest may take (about 45 ms where KVM works).</summary>
    public static readonly TimeSpan ProbeBound = TimeSpan.FromSeconds(5);

    /// <summary>How long a guest that auto started under KVM may stay silent before it is restarted under TCG
    /// (Linux prints its first line within a fraction of a second under KVM).</summary>
    public static readonly TimeSpan KvmFirstOutputBound = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LaunchTimeout = TimeSpan.FromSeconds(60);
    private readonly Lock kvmLock = new();
    private KvmVerdict? kvm;

    public VmPaths PathsOf(string sandbox) => VmPaths.For(stateDirectory, sandbox);

    public VmSpec Start(SandboxRecord r, DhcpLease lease, VmRequest request)
    {
        if (!r.IsTap)
        {
            throw new RequestException(ErrorCode.Invalid, $"sandbox '{r.Name}' is a {r.Attachment.Text} sandbox; a VM needs a tap sandbox (create it with --attach tap, or let `vm run` create it)");
        }

        var paths = PathsOf(r.Name);
        if (Running(paths) is { } pid)
        {
            throw new RequestException(ErrorCode.Conflict, $"sandbox '{r.Name}' already runs a VM (QEMU pid {pid}); stop it first (arcbox vm stop {r.Name})");
        }

        var boot = Validate(request);
        var auto = (request.Accel ?? "auto") == "auto";
        var (accel, note) = Accel(request.Accel);
        if (!auto || accel != "kvm")
        {
            return Boot(r, lease, paths, boot, accel, note);
        }

        // Auto chose KVM because the probe guest ran; the real guest must still show that QEMU runs it. If QEMU
        // fails to start or the guest stays silent, KVM is unusable here for this daemon, and the guest boots under TCG.
        VmSpec spec;
        try
        {
            spec = Boot(r, lease, paths, boot, accel, note);
        }
        catch (RequestException ex) when (ex.Code == ErrorCode.Failure)
        {
            return BootUnderTcg(r, lease, paths, boot, $"the probe passed, but {OneLine(ex.Message)}");
        }

        if (SilentUnderKvm(paths, spec.CommandLine) is not { } silence)
        {
            return spec;
        }

        StopAsync(r.Name, TimeSpan.Zero, CancellationToken.None).GetAwaiter().GetResult();
        return BootUnderTcg(r, lease, paths, boot, $"the probe passed, but {silence}");
    }

    /// <summary>The verdict on KVM for this daemon: QEMU's probe guest, run once on first use (or what a failed
    /// KVM boot under auto found since).</summary>
    public KvmVerdict Kvm
    {
        get
        {
            lock (kvmLock)
            {
                if (kvm is null)
                {
                    kvm = QemuKvmProbe.Run(qemuBinary, Path.Combine(stateDirectory, "vms"), ProbeBound);
                    Hosting.Log.KvmProbed(log, kvm.Usable ? "usable" : "unusable", kvm.Reason);
                }

                return kvm;
            }
        }
    }

    /// <summary>Boots under TCG after KVM failed; KVM is unusable for this daemon only if the guest then boots (a
    /// failure that TCG shares, a busy TAP or a bad kernel, says nothing about KVM).</summary>
    private VmSpec BootUnderTcg(SandboxRecord r, DhcpLease lease, VmPaths paths, BootRequest boot, string why)
    {
        var spec = Boot(r, lease, paths, boot, "tcg", $"auto: kvm unusable: {why}; started under tcg");
        lock (kvmLock)
        {
            kvm = new KvmVerdict(false, why, TimeSpan.Zero);
        }

        Hosting.Log.KvmProbed(log, "unusable", why);
        return spec;
    }

    private VmSpec Boot(SandboxRecord r, DhcpLease lease, VmPaths paths, BootRequest boot, string accel, string? note)
    {
        var commandLine = QemuCommand.CommandLine(boot.Append, lease, accel == "tcg" ? QemuCommand.HostTscKhz() : null);
        var command = QemuCommand.Build(qemuBinary, r, paths, boot.Kernel, boot.Initrd, commandLine, boot.MemoryMb, boot.Cpus, accel);
        Directory.CreateDirectory(paths.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var stale in new[] { paths.Pid, paths.Qmp, paths.Console })
        {
            System.IO.File.Delete(stale);
        }

        var spec = new VmSpec(boot.Kernel, boot.Initrd, commandLine, boot.MemoryMb, boot.Cpus, accel, note, DateTimeOffset.UtcNow, command);
        System.IO.File.WriteAllText(paths.Spec, JsonSerializer.Serialize(spec, ApiJson.Options));
        Launch(r.Name, command);
        return spec;
    }

    /// <summary>Why a guest that QEMU started under KVM is not running, judged by its serial console: null while
    /// it printed within <see cref="KvmFirstOutputBound"/> (or when its console is not ArcBox's to judge: another
    /// console=, or a kernel asked to be quiet).</summary>
    private static string? SilentUnderKvm(VmPaths paths, string commandLine)
    {
        var words = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!words.Contains("console=ttyS0") || words.Any(w => w == "quiet" || w.StartsWith("loglevel=", StringComparison.Ordinal)))
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (System.IO.File.Exists(paths.Console) && new FileInfo(paths.Console).Length > 0)
            {
                return null;
            }

            if (Running(paths) is null)
            {
                return "QEMU under kvm ended before the guest printed anything on its console";
            }

            if (clock.Elapsed > KvmFirstOutputBound)
            {
                return $"the guest printed nothing on its console within {KvmFirstOutputBound.TotalSeconds:0} s under kvm";
            }

            Thread.Sleep(20);
        }
    }

    private static BootRequest Validate(VmRequest request)
    {
        var kernel = File(request.Kernel, "kernel", required: true)!;
        var initrd = File(request.Initrd, "initrd", required: false);
        var memory = request.MemoryMb ?? 256;
        if (memory is < 32 or > 1 << 20)
        {
            throw new RequestException(ErrorCode.Invalid, $"memory: {memory} MB is outside 32-1048576");
        }

        var cpus = request.Cpus ?? 1;
        if (cpus is < 1 or > 64)
        {
            throw new RequestException(ErrorCode.Invalid, $"cpus: {cpus} is outside 1-64");
        }

        if (request.Append is { } append && (append.Length > 1024 || append.Any(char.IsControl)))
        {
            throw new RequestException(ErrorCode.Invalid, "append: kernel arguments are one line of at most 1024 characters");
        }

        // Accel is checked here too, so that a bad one is refused before anything (the probe included) runs.
        if (request.Accel is not (null or "auto" or "kvm" or "tcg"))
        {
            throw new RequestException(ErrorCode.Invalid, $"accel: expected auto, kvm or tcg, not '{request.Accel}'");
        }

        return new BootRequest(kernel, initrd, request.Append, memory, cpus);
    }

    private static string OneLine(string text) =>
        string.Join("; ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public VmStatus? Status(string sandbox)
    {
        var paths = PathsOf(sandbox);
        if (!System.IO.File.Exists(paths.Spec))
        {
            return null;
        }

        VmSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<VmSpec>(System.IO.File.ReadAllText(paths.Spec), ApiJson.Options);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            spec = null;
        }

        if (spec is null)
        {
            return null;
        }

        var pid = Running(paths);
        return new VmStatus(sandbox, pid is null ? "stopped" : "running", pid, paths.Console, spec);
    }

    /// <summary>Stops the VM: an ACPI power-down the guest may honour within <paramref name="grace"/>, then QMP quit,
    /// then SIGKILL. Returns how it ended, or null when no VM was running.</summary>
    public async Task<string?> StopAsync(string sandbox, TimeSpan grace, CancellationToken ct)
    {
        var paths = PathsOf(sandbox);
        if (Running(paths) is not { } pid)
        {
            return null;
        }

        if (grace > TimeSpan.Zero && await TryQmpAsync(paths, "system_powerdown", ct) && await ExitedAsync(paths, grace, ct))
        {
            return "powered off";
        }

        if (await TryQmpAsync(paths, "quit", ct) && await ExitedAsync(paths, TimeSpan.FromSeconds(5), ct))
        {
            return "quit";
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }

        return await ExitedAsync(paths, TimeSpan.FromSeconds(5), ct) ? "killed" : throw new RequestException(ErrorCode.Failure, $"QEMU (pid {pid}) of '{sandbox}' survived SIGKILL");
    }

    /// <summary>Forgets a removed sandbox's VM files (after <see cref="StopAsync"/>).</summary>
    public void Forget(string sandbox)
    {
        var paths = PathsOf(sandbox);
        if (Directory.Exists(paths.Directory))
        {
            Directory.Delete(paths.Directory, recursive: true);
        }
    }

    /// <summary>The pid of the QEMU that owns these files, if it runs (a reused pid is not mistaken for it).</summary>
    public static int? Running(VmPaths paths)
    {
        try
        {
            if (!int.TryParse(System.IO.File.ReadAllText(paths.Pid).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }

            var cmdline = System.IO.File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains(paths.Qmp, StringComparison.Ordinal) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Explicit kvm never falls back and is not probed: QEMU's own error is the answer where it fails.</summary>
    private (string Accel, string? Note) Accel(string? requested) => requested switch
    {
        "tcg" => ("tcg", "requested"),
        "kvm" => ("kvm", "requested"),
        _ => Kvm is { Usable: true } ok ? ("kvm", $"auto: {ok.Reason}") : ("tcg", $"auto: kvm unusable: {Kvm.Reason}"),
    };

    private static string? File(string? path, string what, bool required)
    {
        if (string.IsNullOrEmpty(path))
        {
            return required ? throw new RequestException(ErrorCode.Invalid, $"{what}: missing") : null;
        }

        if (!Path.IsPathFullyQualified(path))
        {
            throw new RequestException(ErrorCode.Invalid, $"{what}: '{path}' is not an absolute path");
        }

        if (path.Contains(',', StringComparison.Ordinal))
        {
            throw new RequestException(ErrorCode.Invalid, $"{what}: '{path}' contains a comma, which QEMU's command line cannot take");
        }

        if (!System.IO.File.Exists(path))
        {
            throw new RequestException(ErrorCode.Invalid, $"{what}: {path}: no such file");
        }

        return path;
    }

    private static void Launch(string sandbox, IReadOnlyList<string> command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new RequestException(ErrorCode.Failure, $"cannot start {command[0]}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RequestException(ErrorCode.Failure, $"cannot start {command[0]} ({ex.Message}); install QEMU: apt-get install qemu-system-x86", inner: ex);
        }

        using (process)
        {
            // With -daemonize the first process exits once the VM is set up (TAP open, kernel loaded), or with the reason it is not.
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(LaunchTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new RequestException(ErrorCode.Failure, $"QEMU for '{sandbox}' did not start within {LaunchTimeout.TotalSeconds:0} s");
            }

            if (process.ExitCode != 0)
            {
                var text = (stderr.Result + stdout.Result).Trim();
                throw new RequestException(ErrorCode.Failure, $"QEMU for '{sandbox}' failed (exit {process.ExitCode}): {(text.Length > 0 ? text : "no message")}");
            }
        }
    }

    private static async Task<bool> TryQmpAsync(VmPaths paths, string command, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var qmp = await QmpClient.ConnectAsync(paths.Qmp, timeout.Token);
            await qmp.ExecuteAsync(command, timeout.Token);
            return true;
        }
        catch (IOException) when (command == "quit")
        {
            // QEMU may close the socket before its answer to quit arrives.
            return true;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> ExitedAsync(VmPaths paths, TimeSpan within, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(within.TotalSeconds * Stopwatch.Frequency);
        while (Running(paths) is not null)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(50, ct);
        }

        return true;
    }
}
