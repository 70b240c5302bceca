namespace ArcBox.Netfilter.Tests.Compiler;

public class NamesTests
{
    [Theory]
    [InlineData("ab", "web", "ab-web")]
    [InlineData("ab", "abcdefghijkl", "ab-abcdefghijkl")]
    [InlineData("t1234", "web", "t1234-web")]
    public void Short_names_are_kept(string prefix, string name, string expected) =>
        Assert.Equal(expected, InterfaceNames.For(prefix, name));

    [Fact]
    public void Long_names_fit_ifnamsiz_and_stay_distinct()
    {
        var names = Enumerable.Range(0, 20_000).Select(i => InterfaceNames.For("abcdef", $"sandbox-with-a-long-name-{i}")).ToList();
        Assert.All(names, n => Assert.True(n.Length <= 15, n));
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public void Macs_are_unicast_locally_administered_and_stable()
    {
        var mac = MacAddresses.For("ab", "web");
        Assert.Equal(mac, MacAddresses.For("ab", "web"));
        Assert.NotEqual(mac, MacAddresses.For("ab", "db"));
        var first = Convert.ToByte(mac[..2], 16);
        Assert.Equal(0, first & 1);
        Assert.Equal(2, first & 2);
    }
}
