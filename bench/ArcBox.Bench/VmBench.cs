using System.Diagnostics;
using System.Globalization;
using ArcBox.Testing;
using ArcBox.Testing.Daemon;

namespace ArcBox.Bench;

/// <summary>
/// The VM path: (1) time from `arcbox vm run` to the guest's first successful probe through its policy, against the
/// same guest booted by plain QEMU on a bare TAP (time to its /init being ready); (2) iperf3 TCP from the guest to
/// the internet namespace through the TAP with ArcBox's tables loaded against the same topology with them removed.
/// Alternating runs, medians.
/// </summary>
public static class VmBench
{
    private const string Policy = "network:\n  outbound:\n    - protocol: tcp\n      port: 80\n  inbound:\n    - from: internet\n      protocol: tcp\n      port: 5201\n";

    public static int Run(int runs)
    {
        var missing = Root.WhyNot("ip", "nft", "iperf3") ?? VmImage.Unavailable;
        if (missing is not null)
        {
            Console.Error.WriteLine("vm bench " + missing);
            return 2;
        }

        var image = VmImage.Instance;
        using var net = new TestNetwork("vmb");
        net.Serve(TestNetwork.NetnsPath(net.Internet), tcp: "80");
        var policy = Path.Combine(net.Directory, "policy.yaml");
        File.WriteAllText(policy, Policy);
        var probe = image.InitrdWith($"until_tcp first {TestNetwork.WebServer} 80 ok 30\n", net.Directory);

        // Boot under TCG always, and under KVM too where QEMU itself runs a guest under KVM here.
        var kvm = ArcBox.Daemon.Vms.QemuKvmProbe.Run(ArcBox.Daemon.Vms.QemuCommand.DefaultBinary, net.Directory, ArcBox.Daemon.Vms.VmHost.ProbeBound);
        var accels = kvm.Usable ? new[] { "tcg", "kvm" } : ["tcg"];
        var boots = new Dictionary<string, (List<(double Started, double Ready, double Probe)> Arcbox, List<double> Plain)>();
        foreach (var accel in accels)
        {
            var boot = new List<(double Started, double Ready, double Probe)>();
            var plain = new List<double>();
            for (var r = 0; r < runs; r++)
            {
                boot.Add(TimeVmRun(net, $"boot{accel}{r}", image.Kernel, probe, policy, accel));
                plain.Add(TimePlainQemu(net, image, accel));
            }

            boots[accel] = (boot, plain);
        }

        var (with, without, throughputAccel) = Throughput(net, image, runs);

        Console.WriteLine($"# vm bench: {runs} alternating runs, medians; throughput under accel {throughputAccel} (auto); guest: Debian cloud kernel + busybox, 1 vCPU, 192 MB");
        Console.WriteLine($"# kvm: {(kvm.Usable ? "" : "not measured: ")}{kvm.Reason}");
        Console.WriteLine("| measure | median | ratio |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (a, (boot, plain)) in boots)
        {
            var plainReady = Stats.Median(plain);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {a}: plain QEMU on a bare TAP: start to guest ready (baseline) | {plainReady:F0} ms | 1.00x |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {a}: arcbox vm run (new sandbox): first console line | {Stats.Median(boot.Select(b => b.Started)):F0} ms | |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {a}: arcbox vm run: guest ready | {Stats.Median(boot.Select(b => b.Ready)):F0} ms | {Stats.Median(boot.Select(b => b.Ready)) / plainReady:F2}x |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {a}: arcbox vm run: first successful probe (TCP to the internet) | {Stats.Median(boot.Select(b => b.Probe)):F0} ms | {Stats.Median(boot.Select(b => b.Probe)) / plainReady:F2}x |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"<!-- {a} runs, ms: vm run to probe {string.Join(' ', boot.Select(b => b.Probe.ToString("F0", CultureInfo.InvariantCulture)))}; plain ready {string.Join(' ', plain.Select(p => p.ToString("F0", CultureInfo.InvariantCulture)))} -->"));
        }

        var baseline = Stats.Median(without);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| iperf3 guest to internet, no firewall (baseline) | {baseline:F0} Mbit/s | 1.00x |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| iperf3 guest to internet, ArcBox tables loaded | {Stats.Median(with):F0} Mbit/s | {Stats.Median(with) / baseline:F2}x |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"<!-- Mbit/s with {string.Join(' ', with.Select(w => w.ToString("F0", CultureInfo.InvariantCulture)))}, without {string.Join(' ', without.Select(w => w.ToString("F0", CultureInfo.InvariantCulture)))} -->"));
        return 0;
    }

    /// <summary>`arcbox vm run` in the foreground, from the command to: the guest console's first line (sandbox
    /// created, QEMU started, kernel printing), the guest's ARCBOX-READY, and the first probe's success.</summary>
    private static (double, double, double) TimeVmRun(TestNetwork net, string name, string kernel, string initrd, string policy, string accel)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "arcbox.dll"), "vm", "run", name, "--kernel", kernel, "--initrd", initrd, "--policy", policy, "--memory", "192", "--accel", accel, "--timeout", "60" })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ARCBOX_SOCKET"] = net.Socket;
        var clock = Stopwatch.StartNew();
        using var cli = Process.Start(psi)!;
        var stderr = cli.StandardError.ReadToEndAsync();
        double started = 0, ready = 0, probe = 0;
        while (cli.StandardOutput.ReadLine() is { } line)
        {
            if (started == 0)
            {
                started = clock.Elapsed.TotalMilliseconds;
            }

            if (line.StartsWith("ARCBOX-READY", StringComparison.Ordinal))
            {
                ready = clock.Elapsed.TotalMilliseconds;
            }
            else if (line.StartsWith("ARCBOX-PROBE first", StringComparison.Ordinal))
            {
                probe = line.StartsWith("ARCBOX-PROBE first ok", StringComparison.Ordinal)
                    ? clock.Elapsed.TotalMilliseconds
                    : throw new InvalidOperationException($"{name}: the probe failed: {line}");
            }
        }

        cli.WaitForExit();
        if (cli.ExitCode != 0 || probe == 0)
        {
            throw new InvalidOperationException($"vm run {name} exited {cli.ExitCode} without a probe: {stderr.Result}");
        }

        net.Arcbox("rm", name).EnsureSuccess("rm " + name);
        return (started, ready, probe);
    }

    /// <summary>The same guest by hand: QEMU on a bare TAP of its own in the host namespace (no sandbox, no rules).</summary>
    private static double TimePlainQemu(TestNetwork net, VmImage image, string accel)
    {
        net.Host.Exec("ip", "tuntap", "add", "dev", "plain0", "mode", "tap", "vnet_hdr").EnsureSuccess("plain tap");
        try
        {
            return TimePlainQemuOn(net, image, accel);
        }
        finally
        {
            net.Host.Exec("ip", "link", "del", "plain0");
        }
    }

    private static double TimePlainQemuOn(TestNetwork net, VmImage image, string accel)
    {
        var psi = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var khz = accel == "tcg" ? ArcBox.Daemon.Vms.QemuCommand.HostTscKhz() : null;
        foreach (var a in new[]
        {
            $"--net={TestNetwork.NetnsPath(net.Host)}", "qemu-system-x86_64",
            "-netdev", "tap,id=net0,ifname=plain0,script=no,downscript=no,vhost=off,vnet_hdr=on", "-device", "virtio-net-device,netdev=net0",
            "-machine", "microvm", "-accel", accel, "-cpu", ArcBox.Daemon.Vms.QemuCommand.CpuModel(accel), "-m", "192", "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-no-reboot", "-kernel", image.Kernel, "-initrd", image.Initrd,
            "-append", $"console=ttyS0 reboot=t panic=-1 ip=10.9.9.9::10.9.9.1:255.255.255.0:plain:eth0:off:10.9.9.1{(khz is { } k ? $" tsc_early_khz={k}" : "")}", "-serial", "stdio",
        })
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var qemu = Process.Start(psi)!;
        _ = qemu.StandardError.ReadToEndAsync();
        double ready = 0;
        while (qemu.StandardOutput.ReadLine() is { } line)
        {
            if (ready == 0 && line.StartsWith("ARCBOX-READY", StringComparison.Ordinal))
            {
                ready = clock.Elapsed.TotalMilliseconds;
            }
        }

        if (!qemu.WaitForExit(60_000) || ready == 0)
        {
            qemu.Kill();
            throw new InvalidOperationException("plain QEMU did not boot the guest");
        }

        return ready;
    }

    /// <summary>The guest serves iperf3; the client in the internet namespace runs with -R, so data flows from the
    /// guest out through its TAP, the host's forward path and the uplink.</summary>
    private static (List<double> With, List<double> Without, string Accel) Throughput(TestNetwork net, VmImage image, int runs)
    {
        net.Create("iperf", Policy, attach: "tap");
        using (var api = net.Api())
        {
            api.SendAsync(HttpMethod.Post, "v1/sandboxes/iperf/vm", new ArcBox.Daemon.Vms.VmRequest(image.Kernel, image.InitrdWith("iperf3 -s -D\necho ARCBOX-WAIT iperf\nsleep 3600\n", net.Directory), null, 192, 1, null))
                .GetAwaiter().GetResult();
        }

        var guest = net.Get("v1/sandboxes/iperf").GetProperty("ipv4").GetString()!;
        var inet = TestNetwork.NetnsPath(net.Internet);
        var deadline = Stopwatch.StartNew();
        while (!net.Reaches(inet, $"tcp:{guest}:5201"))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("the guest's iperf3 server did not come up");
            }

            Thread.Sleep(500);
        }

        var table = $"arcbox-{net.Prefix}";
        var firewall = net.Host.Exec("nft", "list", "table", "inet", table).Stdout;
        var arp = net.Host.Exec("nft", "list", "table", "arp", table).Stdout;
        var with = new List<double>();
        var without = new List<double>();
        for (var r = 0; r < runs; r++)
        {
            with.Add(Iperf(inet, guest));
            net.Host.Exec("nft", "delete", "table", "inet", table).EnsureSuccess("drop firewall");
            net.Host.Exec("nft", "delete", "table", "arp", table).EnsureSuccess("drop arp firewall");
            without.Add(Iperf(inet, guest));
            net.Host.Nft(firewall + arp).EnsureSuccess("restore firewall");
        }

        var accel = net.Get("v1/sandboxes/iperf/vm").GetProperty("spec").GetProperty("accel").GetString()!;
        return (with, without, accel);
    }

    private static double Iperf(string inet, string guest) => ArcBox.Testing.Iperf.Goodput(inet, guest, reverse: true, seconds: 5) / 1e6;
}
