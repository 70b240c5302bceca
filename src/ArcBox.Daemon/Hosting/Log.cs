using Microsoft.Extensions.Logging;

namespace ArcBox.Daemon.Hosting;

/// <summary>Every message the daemon logs, as source-generated logger methods.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "created gateway link {Link}")]
    public static partial void CreatedGatewayLink(ILogger log, string link);

    [LoggerMessage(Level = LogLevel.Information, Message = "arcbox daemon {Version}: network {Subnet4}{Subnet6}, prefix '{Prefix}', uplink {Uplink}, state {StateDirectory}")]
    public static partial void Starting(ILogger log, string version, string subnet4, string subnet6, string prefix, string uplink, string stateDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "reconciled {Count} sandbox(es) in {Milliseconds} ms: {Rewired} rewired, {Orphans} orphan(s) removed, {RolledBack} unfinished create(s) rolled back")]
    public static partial void Reconciled(ILogger log, int count, long milliseconds, int rewired, int orphans, int rolledBack);

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconcile: {Problem}")]
    public static partial void ReconcileProblem(ILogger log, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "listening on {Socket}")]
    public static partial void Listening(ILogger log, string socket);

    [LoggerMessage(Level = LogLevel.Information, Message = "created sandbox {Name} ({Attach}, {Ipv4}, {Interface}) in {Milliseconds:F1} ms")]
    public static partial void Created(ILogger log, string name, string attach, string ipv4, string @interface, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "removed sandbox {Name}")]
    public static partial void Removed(ILogger log, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "removing sandbox {Name}: {Problem}")]
    public static partial void RemoveProblem(ILogger log, string name, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox {Name}: policy set to {Policy}")]
    public static partial void PolicySet(ILogger log, string name, string policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "create {Name} failed: {Problem}")]
    public static partial void CreateFailed(ILogger log, string name, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "forward {Forward}")]
    public static partial void Forwarded(ILogger log, string forward);

    [LoggerMessage(Level = LogLevel.Information, Message = "removed forward {Forward}")]
    public static partial void Unforwarded(ILogger log, string forward);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping; the kernel keeps enforcing every sandbox")]
    public static partial void Stopping(ILogger log);

    [LoggerMessage(Level = LogLevel.Information, Message = "dhcp {Sandbox} on {Interface}: {What}")]
    public static partial void DhcpEvent(ILogger log, string sandbox, string @interface, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "sandbox {Sandbox}: VM console log over {Megabytes} MB, emptied (-1: could not)")]
    public static partial void VmConsoleCapped(ILogger log, string sandbox, long megabytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "flow log: {Problem}; still reading")]
    public static partial void FlowLogProblem(ILogger log, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "serving Prometheus metrics on http://{Endpoint}/metrics")]
    public static partial void MetricsListening(ILogger log, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "flow log is off: cannot bind NFLOG group {Group} ({Problem}); the kernel still enforces and counts")]
    public static partial void FlowLogUnavailable(ILogger log, int group, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DHCP is off: cannot listen on UDP port 67 ({Problem}); guests must be configured with ip= on their kernel command line")]
    public static partial void DhcpUnavailable(ILogger log, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox {Name}: VM started (QEMU pid {Pid}, accel {Accel}) {Note}")]
    public static partial void VmStarted(ILogger log, string name, int pid, string accel, string note);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ifb module not loaded ({Problem}); bandwidth limits need it")]
    public static partial void IfbUnavailable(ILogger log, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "kvm {Verdict} for VMs under --accel auto: {Reason}")]
    public static partial void KvmProbed(ILogger log, string verdict, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox {Name}: VM stopped ({How})")]
    public static partial void VmStopped(ILogger log, string name, string how);

    [LoggerMessage(Level = LogLevel.Warning, Message = "sandbox {Name}: {Feature} could not follow its {Change}: {Problem}")]
    public static partial void ObserverFailed(ILogger log, string name, string feature, string change, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed unexpectedly")]
    public static partial void RequestFailed(ILogger log, Exception exception, string method, string path);
}
