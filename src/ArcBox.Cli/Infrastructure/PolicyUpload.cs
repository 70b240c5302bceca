using ArcBox.Daemon.Sandboxes;
using ArcBox.Policy;

namespace ArcBox.Cli.Infrastructure;

/// <summary>What the CLI sends for a --policy argument: a built-in by name, or the file's YAML after checking it here
/// (so the user sees file:line:column diagnostics); the daemon validates it again.</summary>
public static class PolicyUpload
{
    public static PolicyInput? From(string? argument, bool printWarnings)
    {
        if (argument is null)
        {
            return null;
        }

        if (!File.Exists(argument) && BuiltinPolicies.TryGet(argument, out _))
        {
            return new PolicyInput(argument, null, null);
        }

        PolicyFiles.Load(argument, printWarnings);
        return new PolicyInput(null, File.ReadAllText(argument), argument);
    }
}
