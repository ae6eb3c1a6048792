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

    private readonly ModelsService _service = new();

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public string ConnectionString => _service.Database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        SyntheticModels.WriteLinear(_service.Folder, "digits", ["batch", 1, 28, 28], classes: 10, probabilities: false,
            manifestJson: """{ "version": "1", "output": { "kind": "logits" }, "labels": ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] }""");
        ModelFolder.WriteColours(_service.Folder);
        ModelFolder.WriteBroken(_service.Folder);
        await _service.StartAsync("pages");
        BaseAddress = _service.Factory.StartKestrel();
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        await _service.DisposeAsync();
    }
}
