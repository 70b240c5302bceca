using System.ComponentModel;
using ArcBox.Cli.Infrastructure;
using Spectre.Console.Cli;

namespace ArcBox.Cli.Commands.Sandboxes;

public class NameSettings : ClientSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Sandbox name")]
    public string Name { get; init; } = "";
}
