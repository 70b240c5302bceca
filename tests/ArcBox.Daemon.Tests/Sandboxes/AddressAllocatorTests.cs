using System.Buffers.Binary;
using System.Net;
using ArcBox.Daemon.Sandboxes;
using ArcBox.Netfilter;
using CsCheck;

namespace ArcBox.Daemon.Tests.Sandboxes;

/// <summary>Round-robin IPv4 allocation from a cursor, and the IPv6 address that carries the same host number.</summary>
public class AddressAllocatorTests
{
    private static readonly IPNetwork Subnet = IPNetwork.Parse("10.0.0.0/24");

    private static IPAddress A(string text) => IPAddress.Parse(text);

    // The gateway as the daemon picks it (NetworkConfig.Create): the subnet's first host.
    private static IPAddress GatewayOf(IPNetwork subnet) => NetworkConfig.Create("ab", subnet).Gateway4;

    private static IPAddress? Next(IPNetwork subnet, ISet<IPAddress> used, IPAddress? cursor) =>
        AddressAllocator.Next(subnet, GatewayOf(subnet), used.Contains, cursor);

    /// <summary>Allocates as the daemon does: each address taken becomes the cursor.</summary>
    private static List<IPAddress> Allocate(IPNetwork subnet, HashSet<IPAddress> used, ref IPAddress? cursor, int count)
    {
        var given = new List<IPAddress>();
        for (var i = 0; i < count; i++)
        {
            var next = Next(subnet, used, cursor) ?? throw new InvalidOperationException($"{subnet} is full after {given.Count}");
            used.Add(next);
            given.Add(next);
            cursor = next;
        }

        return given;
    }

    [Fact]
    public void A_fresh_subnet_starts_after_the_gateway_and_goes_up_one_by_one()
    {
        Assert.Equal(A("10.0.0.1"), GatewayOf(Subnet));
        IPAddress? cursor = null;
        Assert.Equal([A("10.0.0.2"), A("10.0.0.3"), A("10.0.0.4"), A("10.0.0.5")], Allocate(Subnet, [], ref cursor, 4));
    }

    [Fact]
    public void A_freed_address_is_the_last_to_be_reused()
    {
        var used = new HashSet<IPAddress>();
        IPAddress? cursor = null;
        Allocate(Subnet, used, ref cursor, 5);
        used.Remove(A("10.0.0.3"));
        Assert.Equal(A("10.0.0.7"), Next(Subnet, used, cursor));

        // Only once the cursor has gone round the whole subnet does .3 come back.
        Allocate(Subnet, used, ref cursor, 254 - 7 + 1);
        Assert.Equal(A("10.0.0.254"), cursor);
        Assert.Equal(A("10.0.0.3"), Next(Subnet, used, cursor));
    }

    [Fact]
    public void The_cursor_wraps_past_broadcast_network_and_gateway()
    {
        Assert.Equal(A("10.0.0.2"), Next(Subnet, new HashSet<IPAddress>(), A("10.0.0.254")));
        Assert.Equal(A("10.0.0.2"), Next(Subnet, new HashSet<IPAddress>(), A("10.0.0.255")));
        Assert.Equal(A("10.0.0.2"), Next(Subnet, new HashSet<IPAddress>(), A("10.0.0.0")));
        Assert.Equal(A("10.0.0.2"), Next(Subnet, new HashSet<IPAddress>(), A("10.0.0.1")));
    }

    [Fact]
    public void A_cursor_outside_the_subnet_starts_again_at_its_beginning()
    {
        // The subnet in arcbox.yaml changed since the cursor was stored.
        Assert.Equal(A("10.0.0.2"), Next(Subnet, new HashSet<IPAddress>(), A("10.1.0.77")));
        Assert.Equal(A("10.0.0.2"), Next(Subnet, new HashSet<IPAddress>(), A("fd00:ab::77")));
    }

    [Fact]
    public void Used_addresses_are_skipped()
    {
        var used = new HashSet<IPAddress> { A("10.0.0.8"), A("10.0.0.9") };
        Assert.Equal(A("10.0.0.10"), Next(Subnet, used, A("10.0.0.7")));
    }

    [Fact]
    public void A_gateway_elsewhere_is_skipped_and_the_first_host_is_then_an_address_like_any_other()
    {
        var gateway = A("10.0.0.5");
        Assert.Equal(A("10.0.0.6"), AddressAllocator.Next(Subnet, gateway, _ => false, A("10.0.0.4")));
        Assert.Equal(A("10.0.0.1"), AddressAllocator.Next(Subnet, gateway, _ => false, A("10.0.0.254")));
        Assert.True(AddressAllocator.IsUsable(Subnet, gateway, A("10.0.0.1")));
        Assert.False(AddressAllocator.IsUsable(Subnet, gateway, gateway));
    }

    [Fact]
    public void Within_a_larger_subnet_dot_255_and_dot_0_of_an_inner_block_are_ordinary_addresses()
    {
        var subnet = IPNetwork.Parse("10.0.0.0/16");
        IPAddress? cursor = A("10.0.0.254");
        Assert.Equal([A("10.0.0.255"), A("10.0.1.0"), A("10.0.1.1")], Allocate(subnet, [], ref cursor, 3));
        Assert.Equal(A("10.0.0.2"), Next(subnet, new HashSet<IPAddress>(), A("10.0.255.254")));
    }

    [Fact]
    public void A_slash_30_has_one_address_and_then_none()
    {
        var subnet = IPNetwork.Parse("192.168.7.4/30");
        IPAddress?[] cursors = [null, A("192.168.7.4"), A("192.168.7.5"), A("192.168.7.6"), A("192.168.7.7")];
        Assert.All(cursors, c => Assert.Equal(A("192.168.7.6"), Next(subnet, new HashSet<IPAddress>(), c)));
        Assert.All(cursors, c => Assert.Null(Next(subnet, new HashSet<IPAddress> { A("192.168.7.6") }, c)));
    }

    [Fact]
    public void A_full_subnet_gives_nothing()
    {
        var used = new HashSet<IPAddress>();
        IPAddress? cursor = null;
        Assert.Equal(253, Allocate(Subnet, used, ref cursor, 253).Distinct().Count());
        Assert.Null(Next(Subnet, used, cursor));
        Assert.Null(Next(Subnet, used, null));
    }

    [Theory]
    [InlineData("10.0.0.2", true)]
    [InlineData("10.0.0.254", true)]
    [InlineData("10.0.0.0", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("10.0.0.255", false)]
    [InlineData("10.0.1.2", false)]
    [InlineData("fd00:ab::2", false)]
    public void IsUsable_refuses_network_gateway_broadcast_and_other_subnets(string address, bool usable) =>
        Assert.Equal(usable, AddressAllocator.IsUsable(Subnet, GatewayOf(Subnet), A(address)));

    [Theory]
    [InlineData("10.0.0.0/24", "10.0.0.7", "fd00:ab::/64", "fd00:ab::7")]
    [InlineData("10.0.0.0/24", "10.0.0.254", "fd00:ab::/64", "fd00:ab::fe")]
    [InlineData("10.0.0.0/16", "10.0.1.200", "fd00:ab::/64", "fd00:ab::1c8")]
    [InlineData("172.16.0.0/12", "172.31.255.254", "fd00:ab:0:1::/64", "fd00:ab:0:1::f:fffe")]
    [InlineData("10.0.0.0/24", "10.0.0.7", "fd00:ab::/120", "fd00:ab::7")]
    public void The_ipv6_address_carries_the_ipv4_host_number(string subnet4, string ipv4, string subnet6, string ipv6) =>
        Assert.Equal(A(ipv6), AddressAllocator.Ipv6For(IPNetwork.Parse(subnet4), A(ipv4), IPNetwork.Parse(subnet6)));

    [Fact]
    public void The_ipv4_gateway_maps_to_the_ipv6_gateway_so_no_sandbox_gets_either()
    {
        var network = NetworkConfig.Create("ab", Subnet, IPNetwork.Parse("fd00:ab::/64"));
        Assert.Equal(network.Gateway6, AddressAllocator.Ipv6For(network.Subnet4, network.Gateway4, network.Subnet6!.Value));
    }

    /// <summary>A subnet of /22 to /30 somewhere in IPv4, which of its addresses are taken, and a cursor (null,
    /// inside the subnet, or outside it).</summary>
    private static readonly Gen<(IPNetwork Subnet, bool[] Used, IPAddress? Cursor)> Situations =
        Gen.Select(Gen.Int[22, 30], Gen.UInt, Gen.Int[0, 100]).SelectMany((prefix, bits, density) =>
        {
            var subnet = new IPNetwork(Mask(bits, prefix), prefix);
            var size = 1 << (32 - prefix);
            return Gen.Select(
                Gen.Int[0, 99].Select(p => p < density).Array[size],
                Gen.Int[-2, size - 1],
                (used, cursor) => (subnet, used, cursor switch
                {
                    -2 => A("192.0.2.1"),
                    -1 => (IPAddress?)null,
                    _ => At(subnet, cursor),
                }));
        });

    [Fact]
    public void Next_gives_the_first_free_usable_address_after_the_cursor_or_null_when_there_is_none() =>
        Situations.Sample((subnet, used, cursor) =>
        {
            var gateway = GatewayOf(subnet);
            var taken = Enumerable.Range(0, used.Length).Where(i => used[i]).Select(i => At(subnet, i)).ToHashSet();
            var next = Next(subnet, taken, cursor);

            // The model: walk the subnet once, in order and round, from just after the cursor (from the start
            // when there is none in the subnet), and take the first address IsUsable accepts that is not taken.
            var start = cursor is not null && subnet.Contains(cursor) ? Offset(subnet, cursor) + 1 : 0;
            var expected = Enumerable.Range(0, used.Length)
                .Select(i => At(subnet, (start + i) % used.Length))
                .FirstOrDefault(a => AddressAllocator.IsUsable(subnet, gateway, a) && !taken.Contains(a));
            return Equals(expected, next);
        }, iter: 2000);

    [Fact]
    public void Allocating_until_full_gives_every_usable_address_once_then_nothing() =>
        Situations.Sample((subnet, _, cursor) =>
        {
            var used = new HashSet<IPAddress>();
            var usable = (1 << (32 - subnet.PrefixLength)) - 3;
            var given = Allocate(subnet, used, ref cursor, usable);
            return given.Distinct().Count() == usable
                && given.All(a => AddressAllocator.IsUsable(subnet, GatewayOf(subnet), a))
                && Next(subnet, used, cursor) is null;
        }, iter: 300);

    [Fact]
    public void The_ipv6_address_is_in_the_ipv6_subnet_with_the_same_host_number() =>
        Gen.Select(Gen.Int[8, 30], Gen.UInt, Gen.UInt, Gen.Int[64, 96]).Sample((prefix, bits, host, prefix6) =>
        {
            var subnet4 = new IPNetwork(Mask(bits, prefix), prefix);
            var hostNumber = host & (uint)((1L << (32 - prefix)) - 1);
            var ipv4 = At(subnet4, (int)hostNumber);
            var subnet6 = new IPNetwork(ArcBox.Policy.Parsing.Addresses.Mask(A("fd00:ab:cd:ef:1234:5678::"), prefix6), prefix6);
            var ipv6 = AddressAllocator.Ipv6For(subnet4, ipv4, subnet6);
            var low = BinaryPrimitives.ReadUInt32BigEndian(ipv6.GetAddressBytes().AsSpan(12));
            return subnet6.Contains(ipv6) && low == hostNumber;
        }, iter: 2000);

    private static IPAddress Mask(uint bits, int prefix)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, bits & (uint.MaxValue << (32 - prefix)));
        return new IPAddress(bytes);
    }

    private static IPAddress At(IPNetwork subnet, int offset)
    {
        var first = BinaryPrimitives.ReadUInt32BigEndian(subnet.BaseAddress.GetAddressBytes());
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, first + (uint)offset);
        return new IPAddress(bytes);
    }

    private static int Offset(IPNetwork subnet, IPAddress address) =>
        (int)(BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) - BinaryPrimitives.ReadUInt32BigEndian(subnet.BaseAddress.GetAddressBytes()));
}
