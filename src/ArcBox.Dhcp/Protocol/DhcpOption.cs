namespace ArcBox.Dhcp.Protocol;

/// <summary>The option codes we read or write (RFC 2132).</summary>
public static class DhcpOption
{
    public const byte Pad = 0;
    public const byte SubnetMask = 1;
    public const byte Router = 3;
    public const byte DnsServers = 6;
    public const byte HostName = 12;
    public const byte DomainName = 15;
    public const byte InterfaceMtu = 26;
    public const byte RequestedAddress = 50;
    public const byte LeaseTime = 51;
    public const byte Overload = 52;
    public const byte MessageType = 53;
    public const byte ServerId = 54;
    public const byte ParameterList = 55;
    public const byte Message = 56;
    public const byte RenewalTime = 58;
    public const byte RebindingTime = 59;
    public const byte ClientId = 61;
    public const byte End = 255;
}
