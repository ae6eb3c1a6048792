using PredictionApi.Tests.Models;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// The service on real Kestrel with its own database and a models folder of four: the shipped mnist (the default),
/// "digits", a 28x28 grey model without a preprocessing profile (a digit model by its shape), "colours", a 4x4 colour
/// model with its own labels, and "broken", which cannot load.
/// </summary>
public sealed class ManyModelsServiceFixture : IAsyncLifetime
{
    public static readonly string[] ColourLabels = ["red", "green", "blue"];

    private readonly string _models = SyntheticModels.TempModelsFolder();
    private PredictionApiFactory? _factory;
    private string? _database;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public string ConnectionString => _database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        ModelFolder.CopyShipped(_models, "mnist");
        SyntheticModels.WriteLinear(_models, "digits", ["batch", 1, 28, 28], classes: 10, probabilities: false,
            manifestJson: """{ "version": "1", "output": { "kind": "logits" }, "labels": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] }""");
        SyntheticModels.WriteLinear(_models, "colours", ["batch", 4, 4, 3], classes: 3, probabilities: false,
            manifestJson: """{ "version": "7", "output": { "kind": "logits" }, "labels": ["red", "green", "blue"] }""");
        Directory.CreateDirectory(Path.Combine(_models, "broken"));
        File.WriteAllText(Path.Combine(_models, "broken", "model.onnx"), "not an onnx file");

        _database = await TestPostgres.CreateDatabaseAsync("pages");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Model:Directory"] = _models });
        BaseAddress = _factory.StartKestrel();
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_database is not null)
        {
            await TestPostgres.DropDatabaseAsync(_database);
        }

        Directory.Delete(_models, recursive: true);
    }
}
