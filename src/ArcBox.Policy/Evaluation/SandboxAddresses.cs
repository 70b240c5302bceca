using System.Net;

namespace ArcBox.Policy.Evaluation;

public sealed record SandboxAddresses(IPAddress Ipv4, IPAddress? Ipv6 = null)
{
    public bool Has(IPAddress address) => address.Equals(Ipv4) || address.Equals(Ipv6);
}
