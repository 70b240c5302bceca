using System.ComponentModel;
using System.Text.Json;
using ArcBox.Cli.Infrastructure;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Daemon.Vms;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Vm;

[Description("Boot a QEMU microVM on a tap sandbox (created if missing): virtio-net on its TAP, serial console to stdout (or, with --detach, to a log in the state directory)")]
public sealed class VmRunCommand : AsyncCommand<VmRunCommand.Settings>
{
    public sealed class Settings : ClientSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Sandbox name; a tap sandbox of that name is created unless it exists")]
        public string Name { get; init; } = "";

        [CommandOption("--kernel <FILE>")]
        [Description("Guest kernel (bzImage or vmlinuz)")]
        public string? Kernel { get; init; }

        [CommandOption("--initrd <FILE>")]
        [Description("Initramfs")]
        public string? Initrd { get; init; }

        [CommandOption("--append <ARGS>")]
        [Description("Extra kernel arguments. ArcBox adds console=ttyS0, reboot=t, panic=-1 and the sandbox's ip= unless given (ip=dhcp asks the daemon's DHCP instead)")]
        public string? Append { get; init; }

        [CommandOption("--memory <MB>")]
        [Description("Guest memory in MB (default 256)")]
        public int? Memory { get; init; }

        [CommandOption("--cpus <N>")]
        [Description("Virtual CPUs (default 1)")]
        public int? Cpus { get; init; }

        [CommandOption("--accel <KIND>")]
        [Description("auto (default: kvm where it can run a guest, else tcg), kvm or tcg")]
        public string? Accel { get; init; }

        [CommandOption("--policy <FILE>")]
        [Description("Policy file or built-in; applied to an existing sandbox too")]
        public string? Policy { get; init; }

        [CommandOption("--ip <ADDR>")]
        [Description("IPv4 address of a new sandbox (default: allocated)")]
        public string? Ip { get; init; }

        [CommandOption("--tap-owner <UID[:GID]>")]
        [Description("Owner of a new sandbox's TAP; QEMU runs as that user (default: nobody)")]
        public string? TapOwner { get; init; }

        [CommandOption("--detach")]
        [Description("Return once the VM runs; its console goes to STATE/vms/NAME/console.log (arcbox vm logs NAME)")]
        public bool Detach { get; init; }

        [CommandOption("--timeout <SECONDS>")]
        [Description("Stop the VM after this long (foreground only); exit code 124 then")]
        public double? Timeout { get; init; }

        public override Spectre.Console.ValidationResult Validate()
        {
            if (Kernel is null)
            {
                return Spectre.Console.ValidationResult.Error("--kernel FILE is required");
            }

            if (Timeout is { } t && (t <= 0 || Detach))
            {
                return Spectre.Console.ValidationResult.Error(Detach ? "--timeout applies to a foreground run, not --detach" : "--timeout must be above 0");
            }

            return base.Validate();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var kernel = LocalFile(settings.Kernel!, "--kernel");
        var initrd = settings.Initrd is null ? null : LocalFile(settings.Initrd, "--initrd");
        var policy = PolicyUpload.From(settings.Policy, printWarnings: !settings.Json);
        using var client = settings.Client();
        var path = $"v1/sandboxes/{Uri.EscapeDataString(settings.Name)}";
        var created = false;
        PolicyInput? previousPolicy = null;
        if (await client.GetOrNullAsync(path, cancellationToken) is { } existing)
        {
            if (existing.GetProperty("attach").GetString() != "tap")
            {
                throw new CliException(ExitCodes.Invalid, $"sandbox '{settings.Name}' is a {existing.GetProperty("attach").GetString()} sandbox; a VM needs a tap sandbox");
            }

            if (settings.Ip is not null || settings.TapOwner is not null)
            {
                throw new CliException(ExitCodes.Invalid, $"sandbox '{settings.Name}' exists: --ip and --tap-owner apply only when vm run creates it");
            }

            if (policy is not null)
            {
                var yaml = System.Text.Encoding.UTF8.GetString((await client.GetBytesAsync($"{path}/policy?format=yaml", cancellationToken)).Body);
                previousPolicy = new PolicyInput(null, yaml, existing.GetProperty("policy").GetString());
                await client.SendAsync(HttpMethod.Put, $"{path}/policy", policy, cancellationToken);
            }
        }
        else
        {
            await client.SendAsync(HttpMethod.Post, "v1/sandboxes", new CreateRequest(settings.Name, "tap", policy, settings.Ip, settings.TapOwner), cancellationToken);
            created = true;
        }

        JsonElement vm;
        try
        {
            vm = await client.SendAsync(HttpMethod.Post, $"{path}/vm", new VmRequest(kernel, initrd, settings.Append, settings.Memory, settings.Cpus, settings.Accel), cancellationToken);
        }
        catch (CliException) when (created || previousPolicy is not null)
        {
            // Nothing half-made stays behind: the sandbox this run created goes with the failed start, and an
            // existing one gets its policy back.
            if (created)
            {
                await client.SendAsync(HttpMethod.Delete, path, ct: CancellationToken.None);
            }
            else
            {
                await client.SendAsync(HttpMethod.Put, $"{path}/policy", previousPolicy, CancellationToken.None);
            }

            throw;
        }

        if (settings.Detach)
        {
            if (settings.Json)
            {
                Json.Write(vm);
            }
            else
            {
                var spec = vm.GetProperty("spec");
                var note = spec.TryGetProperty("accelNote", out var n) ? $" ({n.GetString()})" : "";
                Console.Out.WriteLine($"started VM {settings.Name}: QEMU pid {vm.GetProperty("pid").GetInt32()}, accel {spec.GetProperty("accel").GetString()}{note}; console: {vm.GetProperty("console").GetString()} (arcbox vm logs {settings.Name} --follow)");
            }

            return ExitCodes.Success;
        }

        return await VmConsoleFollower.FollowAsync(client, settings.Name, 0, settings.Timeout is { } t ? TimeSpan.FromSeconds(t) : null, stopOnInterrupt: true);
    }

    private static string LocalFile(string path, string option)
    {
        var full = Path.GetFullPath(path);
        return File.Exists(full) ? full : throw new CliException(ExitCodes.Invalid, $"{option}: {path}: no such file");
    }
}
