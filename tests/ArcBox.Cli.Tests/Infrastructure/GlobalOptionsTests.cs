using ArcBox.Cli.Infrastructure;

namespace ArcBox.Cli.Tests.Infrastructure;

public class GlobalOptionsTests
{
    [Theory]
    [InlineData("--socket /s ls", "ls --socket /s")]
    [InlineData("--json --socket /s policy set web p.yaml", "policy set web p.yaml --json --socket /s")]
    [InlineData("--socket=/s --json ls --denied", "ls --denied --socket=/s --json")]
    [InlineData("ls --socket /s", "ls --socket /s")]
    [InlineData("--json", "--json")]
    [InlineData("--socket", "--socket")]
    [InlineData("--help", "--help")]
    [InlineData("--socket /s", "--socket /s")]
    public void Leading_socket_and_json_go_after_the_command(string given, string expected) =>
        Assert.Equal(expected.Split(' '), GlobalOptions.MoveAfterCommand(given.Split(' ')));
}
