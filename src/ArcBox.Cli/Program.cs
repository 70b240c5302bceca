using ArcBox.Cli;

return CliApp.Run(args);
