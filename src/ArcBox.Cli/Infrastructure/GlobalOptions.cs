namespace ArcBox.Cli.Infrastructure;

/// <summary>
/// `--socket PATH` and `--json` before the command, as docker, podman and incus take them (`arcbox --json ls`).
/// Spectre.Console.Cli reads options after the command only, so the leading ones are moved to the end; they then
/// mean what they mean after the command (and a command without such an option refuses it the same way).
/// </summary>
public static class GlobalOptions
{
    public static string[] MoveAfterCommand(string[] args)
    {
        var leading = new List<string>();
        var i = 0;
        while (i < args.Length)
        {
            if (args[i] == "--json" || args[i].StartsWith("--socket=", StringComparison.Ordinal))
            {
                leading.Add(args[i]);
                i++;
            }
            else if (args[i] == "--socket" && i + 1 < args.Length)
            {
                leading.AddRange(args[i..(i + 2)]);
                i += 2;
            }
            else
            {
                break;
            }
        }

        // Nothing but options: left as they are, for Spectre to say what is missing.
        return leading.Count == 0 || i == args.Length ? args : [.. args[i..], .. leading];
    }
}
