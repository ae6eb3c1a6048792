using System.Globalization;

namespace PredictionApi.Tests.Models;

/// <summary>
/// The service for one multi-model test class: its own database and temporary models folder, which starts with a copy
/// of the shipped mnist model (the default) and takes versions of the synthetic "grey" model whose weights it keeps.
/// </summary>
internal sealed class ModelsService : IAsyncDisposable
{
    public ModelsService() => ModelFolder.CopyShipped(Folder, "mnist");

    public string Folder { get; } = SyntheticModels.TempModelsFolder();

    public string Database { get; private set; } = null!;

    public PredictionApiFactory Factory { get; private set; } = null!;

    /// <summary>The weights of each "grey" version written, by version.</summary>
    public Dictionary<string, float[]> GreyWeights { get; } = [];

    /// <summary>A service whose folder also holds these versions of "grey", each written with its number as the seed.</summary>
    public static ModelsService WithGreyVersions(params int[] versions)
    {
        var service = new ModelsService();
        foreach (var version in versions)
        {
            service.WriteGrey(version.ToString(CultureInfo.InvariantCulture), seed: version);
        }

        return service;
    }

    /// <summary>Writes version <paramref name="version"/> of "grey" (see <see cref="ModelFolder.WriteLinearVersion"/>).</summary>
    public void WriteGrey(string version, int seed) => GreyWeights[version] = ModelFolder.WriteLinearVersion(Folder, "grey", version, seed);

    /// <summary>Creates the database and the service over <see cref="Folder"/>, with <paramref name="settings"/> besides.</summary>
    public async Task StartAsync(string databasePrefix, IReadOnlyDictionary<string, string?>? settings = null)
    {
        Database = await TestPostgres.CreateDatabaseAsync(databasePrefix);
        var all = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Model:Directory"] = Folder };
        Factory = new PredictionApiFactory(Database, all);
    }

    /// <summary>Asserts that <paramref name="probabilities"/> are what "grey" <paramref name="version"/> gives for swatch <paramref name="swatch"/>.</summary>
    public void AssertGreyAnswer(IReadOnlyList<float> probabilities, string version, int swatch)
    {
        var expected = SyntheticModels.ExpectedProbabilities(GreyWeights[version], 3, ModelFolder.SwatchTensor(swatch));
        Assert.Equal(expected.Length, probabilities.Count);
        for (var c = 0; c < expected.Length; c++)
        {
            Assert.Equal(expected[c], probabilities[c], 4);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Factory is not null)
        {
            await Factory.DisposeAsync();
            await TestPostgres.DropDatabaseAsync(Database);
        }

        Directory.Delete(Folder, recursive: true);
    }
}
