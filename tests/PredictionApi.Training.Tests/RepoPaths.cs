namespace PredictionApi.Training.Tests;

/// <summary>Locates the repository root (the folder with PredictionApi.sln) and the shared MNIST files beside it.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Mnist(string file) => Path.GetFullPath(Path.Combine(Root, "..", "shared", "mnist", file));

    public static string T10kImages => Mnist("t10k-images-idx3-ubyte.gz");
    public static string T10kLabels => Mnist("t10k-labels-idx1-ubyte.gz");
    public static string Npm10kImages => Mnist("npm10k-images-idx3-ubyte.gz");
    public static string Npm10kLabels => Mnist("npm10k-labels-idx1-ubyte.gz");

    public static string ModelDir => Path.Combine(Root, "models", "mnist");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PredictionApi.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("PredictionApi.sln not found above " + AppContext.BaseDirectory);
    }
}
