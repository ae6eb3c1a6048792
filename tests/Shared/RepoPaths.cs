namespace PredictionApi.Tests.Shared;

/// <summary>
/// The repository root (the folder with PredictionApi.sln), its models, and the shared MNIST files beside
/// it. One source file, compiled into both test projects.
/// </summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Models => Path.Combine(Root, "models");

    public static string T10kImages => Mnist("t10k-images-idx3-ubyte.gz");

    public static string T10kLabels => Mnist("t10k-labels-idx1-ubyte.gz");

    public static string Npm10kImages => Mnist("npm10k-images-idx3-ubyte.gz");

    public static string Npm10kLabels => Mnist("npm10k-labels-idx1-ubyte.gz");

    private static string Mnist(string file) => Path.GetFullPath(Path.Combine(Root, "..", "shared", "mnist", file));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PredictionApi.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PredictionApi.sln was not found above " + AppContext.BaseDirectory);
    }
}
