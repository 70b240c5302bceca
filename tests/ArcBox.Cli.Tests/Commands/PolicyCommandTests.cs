using System.Text.Json;

namespace ArcBox.Cli.Tests.Commands;

public class PolicyCommandTests
{
    [Fact]
    public void Help_lists_every_command()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("policy", r.Stdout, StringComparison.Ordinal);
        var policy = CliRunner.Run("policy", "--help");
        foreach (var command in new[] { "validate", "compile", "explain" })
        {
            Assert.Contains(command, policy.Stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("daemon")]
    [InlineData("demo")]
    [InlineData("create")]
    [InlineData("ls")]
    [InlineData("inspect")]
    [InlineData("rm")]
    [InlineData("exec")]
    [InlineData("logs")]
    [InlineData("forward")]
    [InlineData("forward ls")]
    [InlineData("forward rm")]
    [InlineData("dns query")]
    [InlineData("policy")]
    [InlineData("policy validate")]
    [InlineData("policy compile")]
    [InlineData("policy explain")]
    [InlineData("policy set")]
    [InlineData("policy show")]
    public void Every_help_page_renders(string command)
    {
        var r = CliRunner.Run([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
        Assert.True(r.ExitCode == 0, $"{command} --help: {r.ExitCode} {r.Stderr}");
        Assert.Contains("USAGE", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_accepts_the_seed()
    {
        var r = CliRunner.Run("policy", "validate", CliRunner.Seed);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("valid", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_reports_a_missing_file_as_its_error_and_exits_1()
    {
        var r = CliRunner.Run("policy", "validate", "/nonexistent/policy.yaml");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("/nonexistent/policy.yaml:1:1: error: cannot read policy file: ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/policy.yaml: invalid (1 error(s))", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_reports_file_line_column_and_exits_1()
    {
        var r = CliRunner.Run("policy", "validate", CliRunner.Bad("unknown-keys"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{CliRunner.Bad("unknown-keys")}:4:7: error: unknown key 'prots' in rule outbound[0]; did you mean 'ports'?", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_json_carries_every_diagnostic()
    {
        var r = CliRunner.Run("policy", "validate", CliRunner.Seed, CliRunner.Bad("ports"), "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        var files = doc.RootElement.GetProperty("files");
        Assert.True(files[0].GetProperty("valid").GetBoolean());
        var diagnostics = files[1].GetProperty("diagnostics");
        Assert.Equal(9, diagnostics.GetArrayLength());
        var first = diagnostics[0];
        Assert.Equal(4, first.GetProperty("line").GetInt32());
        Assert.Equal(13, first.GetProperty("column").GetInt32());
        Assert.Equal("error", first.GetProperty("severity").GetString());
        Assert.Equal(CliRunner.Bad("ports"), first.GetProperty("file").GetString());
    }

    [Fact]
    public void Compile_prints_a_complete_nft_script()
    {
        var r = CliRunner.Run("policy", "compile", CliRunner.Seed, "--name", "web", "--ip", "10.0.0.2");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("# ArcBox ruleset", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("delete table inet arcbox-ab", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("comment \"outbound[0]\"", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("iptables", "*filter")]
    [InlineData("json", "\"rules\"")]
    public void Compile_renders_other_formats(string format, string marker)
    {
        var r = CliRunner.Run("policy", "compile", CliRunner.Seed, "--name", "web", "--ip", "10.0.0.2", "--format", format);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(marker, r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_refuses_an_invalid_policy_with_its_diagnostics()
    {
        var r = CliRunner.Run("policy", "compile", CliRunner.Bad("ports"), "--name", "web", "--ip", "10.0.0.2", "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("invalid", error.GetProperty("code").GetString());
        Assert.Equal(9, error.GetProperty("details").GetProperty("diagnostics").GetArrayLength());
    }

    [Theory]
    [InlineData("--ip", "10.0.1.2", "outside the subnet")]
    [InlineData("--ip", "10.0.0.1", "gateway")]
    [InlineData("--ip", "10.0.0.255", "broadcast")]
    [InlineData("--ip", "ten", "invalid IPv4 address")]
    [InlineData("--name", "Bad_Name", "invalid sandbox name")]
    [InlineData("--format", "pf", "unknown format")]
    [InlineData("--prefix", "toolongprefix", "invalid prefix")]
    [InlineData("--ip6", "fd00::2", "needs --subnet6")]
    public void Compile_usage_errors_exit_2_and_name_the_problem(string option, string value, string message)
    {
        var args = new List<string> { "policy", "compile", CliRunner.Seed, "--name", "web", "--ip", "10.0.0.2" };
        var at = args.IndexOf(option);
        if (at >= 0)
        {
            args[at + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        var r = CliRunner.Run([.. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_command_and_option_are_usage_errors()
    {
        Assert.Equal(2, CliRunner.Run("frobnicate").ExitCode);
        var r = CliRunner.Run("policy", "validate", CliRunner.Seed, "--bogus", "--json");
        Assert.Equal(2, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("usage", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("--to", "203.0.113.7:443/tcp", "allow", "outbound[0]")]
    [InlineData("--to", "203.0.113.7:22/tcp", "deny", "default")]
    [InlineData("--to", "169.254.169.254:80/tcp", "deny", "default")]
    [InlineData("--to", "8.8.8.8:53/udp", "allow", "outbound[1]")]
    [InlineData("--to", "10.0.0.1:22", "deny", "default")]
    public void Explain_outbound(string option, string flow, string verdict, string rule)
    {
        var r = CliRunner.Run("policy", "explain", CliRunner.Seed, "--name", "web", "--ip", "10.0.0.2", option, flow, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(verdict, doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(rule, doc.RootElement.GetProperty("rule").GetString());
    }

    [Fact]
    public void Explain_inbound_from_a_neighbour_names_the_rule()
    {
        var r = CliRunner.Run("policy", "explain", CliRunner.Seed, "--name", "web", "--ip", "10.0.0.2", "--from", "10.0.0.3", "--port", "8080/tcp", "--peer", "db=10.0.0.3");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("allow", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("inbound[0]", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("sandbox:db", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--to", "203.0.113.7")]
    [InlineData("--to", "203.0.113.7:443/sctp")]
    [InlineData("--from", "10.0.0.3")]
    public void Explain_rejects_malformed_flows(string option, string value)
    {
        var r = CliRunner.Run("policy", "explain", CliRunner.Seed, "--name", "web", "--ip", "10.0.0.2", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.NotEmpty(r.Stderr);
    }
}
