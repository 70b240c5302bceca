using System.Text;
using ArcBox.Policy.Diagnostics;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;

namespace ArcBox.Cli.Infrastructure;

/// <summary>
/// Reads a policy file and parses it: the policy core never touches files. A file that cannot be read, or is too
/// big to read at all, is an error diagnostic at file:1:1 like any other problem of the policy, so that `validate`
/// reports it among the rest instead of failing.
/// </summary>
public static class PolicyFileReader
{
    public static PolicyParseResult Parse(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > PolicyParser.MaxFileBytes)
            {
                return Unreadable(path, $"policy file is {info.Length} bytes; the maximum is {PolicyParser.MaxFileBytes}");
            }

            return PolicyParser.Parse(File.ReadAllText(path, Encoding.UTF8), path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Unreadable(path, $"cannot read policy file: {ex.Message}");
        }
    }

    private static PolicyParseResult Unreadable(string path, string message) =>
        new(null, [new Diagnostic(Severity.Error, new SourceLocation(path, 1, 1), message)]);
}
