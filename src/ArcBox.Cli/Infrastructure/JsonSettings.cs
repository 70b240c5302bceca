using System.ComponentModel;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Infrastructure;

/// <summary>Options every command takes.</summary>
public class JsonSettings : CommandSettings
{
    [CommandOption("--json")]
    [Description("Print machine-readable JSON (errors included) instead of text")]
    public bool Json { get; init; }
}
