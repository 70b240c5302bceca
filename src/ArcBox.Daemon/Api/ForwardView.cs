using ArcBox.Netfilter.Forwarding;

namespace ArcBox.Daemon.Api;

public sealed record ForwardView(string Host, int HostPort, string Protocol, string Sandbox, int SandboxPort, string Spec)
{
    public static ForwardView From(PortForward f) =>
        new(f.HostAddress.ToString(), f.HostPort, f.Protocol4, f.Sandbox, f.SandboxPort, f.ToString());
}
