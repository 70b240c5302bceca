namespace ArcBox.Dhcp.Server;

/// <summary>The daemon config's 'dhcp:' section.</summary>
/// <param name="Enabled">Serve DHCP on TAP sandbox links (guests can always be configured with ip= instead).</param>
/// <param name="LeaseTime">What a guest gets; it renews at half of it.</param>
public sealed record DhcpSettings(bool Enabled, TimeSpan LeaseTime)
{
    public static readonly DhcpSettings Default = new(true, TimeSpan.FromHours(1));
}
