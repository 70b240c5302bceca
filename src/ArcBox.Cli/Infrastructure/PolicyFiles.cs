using ArcBox.Policy;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;

namespace ArcBox.Cli.Infrastructure;

public static class PolicyFiles
{
    /// <summary>A policy file, or a built-in by name ("default", "offline"). Throws with every diagnostic when invalid.</summary>
    public static SandboxPolicy Load(string pathOrBuiltin, bool printWarnings)
    {
        if (!File.Exists(pathOrBuiltin) && BuiltinPolicies.TryGet(pathOrBuiltin, out var builtin))
        {
            return builtin;
        }

        if (!File.Exists(pathOrBuiltin))
        {
            throw new CliException(ExitCodes.Invalid, $"cannot read policy file '{pathOrBuiltin}': no such file (built-in policies: default, offline)");
        }

        var result = PolicyFileReader.Parse(pathOrBuiltin);
        if (!result.Success)
        {
            throw new CliException(
                ExitCodes.Invalid,
                $"{pathOrBuiltin}: the policy does not validate:\n" + string.Join('\n', result.Diagnostics),
                new { diagnostics = result.Diagnostics.Select(DiagnosticView.From) });
        }

        if (printWarnings)
        {
            foreach (var warning in result.Diagnostics)
            {
                Console.Error.WriteLine(warning);
            }
        }

        return result.Policy;
    }
}
