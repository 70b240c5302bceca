using ArcBox.Policy;
using ArcBox.Policy.Model;
using ArcBox.Policy.Parsing;

namespace ArcBox.Daemon.Sandboxes;

/// <summary>A policy as a request carries it: a built-in by name, or YAML with the file name it came from.</summary>
public sealed record PolicyInput(string? Name, string? Yaml, string? File)
{
    /// <summary>The policy's display name, its YAML and the validated model; invalid input throws with every diagnostic.</summary>
    public (string Name, string Yaml, SandboxPolicy Policy) Resolve()
    {
        if (Yaml is null)
        {
            var name = Name ?? BuiltinPolicies.DefaultName;
            if (!BuiltinPolicies.TryGet(name, out var builtin))
            {
                throw new RequestException(ErrorCode.Invalid, $"unknown built-in policy '{name}' (built-ins: default, offline); send a policy file instead");
            }

            return (name, name == BuiltinPolicies.DefaultName ? BuiltinPolicies.DefaultYaml : BuiltinPolicies.OfflineYaml, builtin);
        }

        var file = string.IsNullOrWhiteSpace(File) ? "policy.yaml" : File;
        var result = PolicyParser.Parse(Yaml, file);
        if (!result.Success)
        {
            throw new RequestException(
                ErrorCode.Invalid,
                $"{file}: the policy does not validate:\n{string.Join('\n', result.Errors)}",
                new { diagnostics = result.Diagnostics.Select(d => new { file = d.Location.File, line = d.Location.Line, column = d.Location.Column, severity = d.IsError ? "error" : "warning", message = d.Message }) });
        }

        return (File ?? Name ?? "custom", Yaml, result.Policy);
    }
}
