using ArcBox.Testing;
namespace ArcBox.Integration.Tests.Daemon;

/// <summary>Daemon tests each run a real daemon and real traffic; on a 2-core machine two at a time keep them quick
/// without starving each other's timeouts.</summary>
public static class Needs
{
    public static string? Root => ArcBox.Testing.Root.WhyNot("ip", "nft", "nsenter");
}
