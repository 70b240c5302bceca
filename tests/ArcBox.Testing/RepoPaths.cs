namespace ArcBox.Testing;

public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string TestData => Path.Combine(Root, "tests", "testdata");

    public static string Examples => Path.Combine(Root, "examples");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ArcBox.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (ArcBox.slnx) above " + AppContext.BaseDirectory);
    }
}
