namespace PredictionApi.Tests.Infrastructure;

/// <summary>The repository root (the folder with PredictionApi.sln) and the shared MNIST files beside it.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string T10kImages => Path.GetFullPath(Path.Combine(Root, "..", "shared", "mnist", "t10k-images-idx3-ubyte.gz"));

    public static string T10kLabels => Path.GetFullPath(Path.Combine(Root, "..", "shared", "mnist", "t10k-labels-idx1-ubyte.gz"));

    /// <summary>The models folder the service serves by default: copied next to the test binaries by the build.</summary>
    public static string Models => Path.Combine(AppContext.BaseDirectory, "models");

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
