using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using PredictionApi.Imaging;
using PredictionApi.Observability;

namespace PredictionApi.Inference;

/// <summary>
/// Every model the service serves, by folder name, with its loaded versions. A request leases the version it asks
/// for (or the serving one); loading a version loads and warms it before it takes traffic, and the version it
/// replaces closes once its requests in flight finish.
/// </summary>
public sealed class ModelRegistry(IOptions<ModelOptions> options, ImagePreprocessor preprocessor, ServiceMetrics metrics, ILogger<ModelRegistry> logger)
{
    private readonly ModelOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, ModelEntry> _models = new(StringComparer.Ordinal);
    // Labels of every version loaded since start, so stored predictions of an unloaded version still read with names.
    private readonly ConcurrentDictionary<(string Name, string Version), string[]> _labels = new();

    /// <summary>The model that answers requests naming none.</summary>
    public string DefaultName => _options.Name;

    public string Directory => _options.Directory;

    /// <summary>The one name a model cannot have: its GET /models/{name} would be the comparison's route.</summary>
    public const string ReservedName = "compare";

    /// <summary>The models with a serving version, for messages that list what a request could name ("none" when none).</summary>
    public string ServedList => string.Join(", ", Names.Where(n => _models.TryGetValue(n, out var e) && e.Serving is not null).DefaultIfEmpty("none"));

    /// <summary>The detail of a 404 for a model name nothing answers to: the models that serve, and where to list them.</summary>
    public string NoSuchModel(string name, string listing = "GET /models") => $"There is no model '{name}'. Served: {ServedList} ({listing}).";

    /// <summary>Every model that has been looked at: the default first, then by name.</summary>
    public IReadOnlyList<string> Names => _models.Keys.OrderBy(n => n != DefaultName).ThenBy(n => n, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Leases <paramref name="name"/> (the default model when null) at <paramref name="version"/> (the serving version
    /// when null); throws <see cref="ModelUnavailableException"/> when it is not served.
    /// </summary>
    public ModelLease Acquire(string? name, string? version = null)
    {
        // An empty or repeated ?model= (bound as "a,b") is a malformed request, not an unknown model.
        if (name is not null && !Predictions.QueryValues.IsModelName(name) || version is not null && !Predictions.QueryValues.IsText(version))
        {
            throw new ModelUnavailableException(StatusCodes.Status400BadRequest, "Invalid model",
                "model must be one model name, such as 'mnist', and version one version, such as '2.0.0' (GET /models lists them); leave either out for the default.");
        }

        name ??= DefaultName;
        while (true)
        {
            if (!_models.TryGetValue(name, out var entry))
            {
                throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Unknown model", NoSuchModel(name));
            }

            LoadedModel? model;
            if (version is null)
            {
                model = entry.Serving ?? throw new ModelUnavailableException(StatusCodes.Status503ServiceUnavailable, "Model not ready",
                    $"The model '{name}' is {entry.State.ToString().ToLowerInvariant()}{(entry.Reason is { } r ? $": {r}" : "")}. GET /models shows its versions; POST /models/{name}/load loads one.");
            }
            else if (!entry.Loaded.TryGetValue(version, out model))
            {
                throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Version not loaded",
                    $"Version '{version}' of the model '{name}' is not loaded. Loaded: {string.Join(", ", entry.Loaded.Keys.Order(VersionOrder.Instance).DefaultIfEmpty("none"))}; " +
                    $"POST /models/{name}/load?version={version} loads it.");
            }

            // Retired between the read and the lease (a swap): the next read finds its successor.
            if (model.TryEnter())
            {
                return new ModelLease(model);
            }
        }
    }

    /// <summary>The labels of a stored prediction's model, when any version of that name was loaded since start.</summary>
    public string[]? Labels(string name, string version) =>
        _labels.TryGetValue((name, version), out var labels) ? labels
        : _models.TryGetValue(name, out var entry) && entry.Serving is { } serving ? serving.Spec.Labels
        : null;

    /// <summary>The serving spec of <paramref name="name"/> (the default model when null), or null when none serves.</summary>
    public ModelSpec? SpecOf(string? name) => _models.GetValueOrDefault(name ?? DefaultName)?.Serving?.Spec;

    /// <summary>
    /// How many classes a model has, for validating ?max_labels=: its serving version's count, or, for a model not
    /// served (its stored predictions are still readable), a bound no classifier output reaches.
    /// </summary>
    public int ClassCount(string? name) => SpecOf(name)?.Output.Classes ?? UnknownClassCount;

    private const int UnknownClassCount = 100_000;

    /// <summary>The serving version of every model that has one, the default first (readiness reports them).</summary>
    public IReadOnlyList<ModelSpec> Serving => Names.Select(n => _models[n].Serving?.Spec).OfType<ModelSpec>().ToList();

    /// <summary>Every loaded version, for the model info gauge.</summary>
    public IReadOnlyList<LoadedModel> Loaded => _models.Values.SelectMany(e => e.Loaded.Values).ToList();

    /// <summary>GET /models: every model, its versions and their states.</summary>
    public IReadOnlyList<ModelInfo> Describe() => Names.Select(n => Describe(n)!).ToList();

    public ModelInfo? Describe(string name)
    {
        if (!_models.TryGetValue(name, out var entry))
        {
            return null;
        }

        var info = entry.Serving is { } serving ? ModelInfo.From(serving.Spec) : ModelInfo.Empty(name);
        return info with
        {
            State = entry.State.ToString().ToLowerInvariant(),
            Reason = entry.Reason,
            Default = name == DefaultName,
            Versions = WithFolders(name, entry.Versions),
            Shadows = ShadowsOf(entry.Serving?.Spec).Select(s => s.ToString()).ToArray(),
        };
    }

    /// <summary>The versions tried since start, and those on disk never loaded (as unloaded), lowest first.</summary>
    private IReadOnlyList<ModelVersionStatus> WithFolders(string name, IReadOnlyList<ModelVersionStatus> tried)
    {
        var onDisk = ModelFolders.Find(_options.Directory, name)?.Versions ?? [];
        return tried.Concat(onDisk.Where(v => tried.All(t => t.Version != v)).Select(v => new ModelVersionStatus(v, "unloaded", false, null, null, null)))
            .OrderBy(v => v.Version, VersionOrder.Instance).ToList();
    }

    /// <summary>The models that shadow <paramref name="spec"/>'s model: its manifest's list, then configuration's.</summary>
    public IReadOnlyList<ModelSelector> ShadowsOf(ModelSpec? spec)
    {
        // Asked on every upload: a model without shadows (the usual case) costs a lookup, nothing more.
        var configured = spec is null ? null : _options.Shadows.GetValueOrDefault(spec.Name);
        if (spec is null || (spec.Shadows.Length == 0 && configured is not { Length: > 0 }))
        {
            return [];
        }

        configured ??= [];
        return spec.Shadows.Concat(configured)
            .Select(text => ModelSelector.TryParse(text, out var s) ? s : (ModelSelector?)null)
            .OfType<ModelSelector>()
            .Where(s => s.Name != spec.Name || (s.Version is not null && s.Version != spec.Version))
            .Distinct()
            .ToList();
    }

    /// <summary>
    /// Loads <paramref name="version"/> of <paramref name="name"/> (its pinned or highest version when null) and warms
    /// it up; with <paramref name="serve"/>, it then takes the traffic of requests that name no version. A load that
    /// fails leaves what serves untouched and records why.
    /// </summary>
    public Task<ModelInfo> LoadAsync(string name, string? version, bool serve, CancellationToken cancellationToken) =>
        LoadAsync(name, version, serve, unlessUnloaded: false, cancellationToken);

    /// <param name="unlessUnloaded">
    /// A load the service decided on its own (polling, a shadow): decided before it waited its turn, so an operator's
    /// unload that ran meanwhile stands.
    /// </param>
    private async Task<ModelInfo> LoadAsync(string name, string? version, bool serve, bool unlessUnloaded, CancellationToken cancellationToken)
    {
        var folder = ModelFolders.Find(_options.Directory, name)
            ?? throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Unknown model",
                $"The model folder '{name}' does not exist in Model:Directory. " +
                $"Available: {string.Join(", ", ModelLoader.Available(_options.Directory).DefaultIfEmpty("none"))}.");
        var entry = _models.GetOrAdd(name, n => new ModelEntry(n));
        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            // The poller saw the model serving, then waited here behind an operator's unload: the service does not reload
            // a model an operator unloaded, whenever the unload ran.
            if (unlessUnloaded && entry.State == ModelState.Unloaded)
            {
                return Describe(name)!;
            }

            string? folderVersion = null;
            if (folder.Versioned)
            {
                var pinned = version is null ? _options.Versions.GetValueOrDefault(name) : null;
                folderVersion = version ?? pinned ?? folder.Versions[^1];
                if (!folder.Versions.Contains(folderVersion, StringComparer.Ordinal))
                {
                    var missing = pinned is null
                        ? $"The model '{name}' has no version folder '{folderVersion}'. Versions: {string.Join(", ", folder.Versions)}."
                        : $"Model:Versions:{name} pins version '{pinned}', but the model '{name}' has no version folder '{pinned}'. " +
                          $"Versions: {string.Join(", ", folder.Versions)}. Pin one of them, or remove the pin to serve the highest.";
                    // Not left "loading" with no reason when nothing serves it (a pin that names no folder, say).
                    entry.Refuse(missing);
                    logger.LogError("Model {Model} cannot load: {Reason}", name, missing);
                    throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Unknown version", missing);
                }
            }

            var label = folderVersion ?? ModelLoader.FlatVersion(folder);
            if (version is not null && version != label)
            {
                var other = $"The model '{name}' is not versioned; its folder holds version {label}, not '{version}'.";
                entry.Refuse(other);
                throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Unknown version", other);
            }

            entry.MarkLoading(label);
            entry.Tried[label] = Fingerprint(folder, folderVersion);
            LoadedModel model;
            try
            {
                model = await Task.Run(() => Open(folder, folderVersion), cancellationToken);
            }
            catch (ModelConfigurationException e)
            {
                entry.MarkFailed(label, e.Message);
                logger.LogError("Model {Model} version {Version} failed to load; what served before still serves: {Reason}", name, label, e.Message);
                throw new ModelUnavailableException(StatusCodes.Status422UnprocessableEntity, "Model failed to load", e.Message);
            }
            catch (Exception e)
            {
                // Never left "loading": a load cut short (cancelled, or an error of the service's own) is a failed one.
                entry.MarkFailed(label, $"the load did not finish: {e.Message}");
                throw;
            }

            _labels[(name, model.Spec.Version)] = model.Spec.Labels;
            foreach (var old in entry.Add(model, serve))
            {
                old.Retire();
            }

            logger.LogInformation("Model {Model} version {Version} loaded{Serving}", name, model.Spec.Version, serve ? " and serving" : "");
            return Describe(name)!;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Unloads <paramref name="version"/> of <paramref name="name"/>, or every version when null; requests in flight finish first.</summary>
    public async Task<ModelInfo> UnloadAsync(string name, string? version, CancellationToken cancellationToken)
    {
        if (!_models.TryGetValue(name, out var entry))
        {
            throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Unknown model", NoSuchModel(name));
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            if (version is not null && !entry.Loaded.ContainsKey(version))
            {
                throw new ModelUnavailableException(StatusCodes.Status404NotFound, "Version not loaded",
                    $"Version '{version}' of the model '{name}' is not loaded. Loaded: {string.Join(", ", entry.Loaded.Keys.DefaultIfEmpty("none"))}.");
            }

            foreach (var model in entry.Remove(version, "unloaded on request"))
            {
                model.Retire();
            }

            logger.LogInformation("Model {Model} {Version} unloaded", name, version ?? "(every version)");
            return Describe(name)!;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>
    /// Loads what Model:Directory and configuration say to serve: the default model first (its failure stops the start),
    /// then every other model and the shadow versions named. A model that fails shows as failed in GET /models.
    /// </summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        await LoadServingAsync(DefaultName, unlessUnloaded: false, cancellationToken);
        foreach (var folder in ToServe().Where(f => f.Name != DefaultName))
        {
            await TryLoadServingAsync(folder.Name, unlessUnloaded: false, cancellationToken);
        }

        await LoadShadowsAsync(cancellationToken);
    }

    /// <summary>Polling: loads models and versions that appeared or changed on disk since the last look.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var folder in ToServe())
        {
            var entry = _models.GetValueOrDefault(folder.Name);
            if (entry is not null && entry.State == ModelState.Unloaded)
            {
                // Unloaded by an operator: stays unloaded until loaded again by hand.
                continue;
            }

            var version = folder.Versioned ? _options.Versions.GetValueOrDefault(folder.Name) ?? folder.Versions[^1] : null;
            // These exact files were loaded (or failed) before: nothing to do until they change.
            if (entry?.Tried.GetValueOrDefault(version ?? ModelLoader.FlatVersion(folder)) == Fingerprint(folder, version))
            {
                continue;
            }

            await TryLoadServingAsync(folder.Name, unlessUnloaded: true, cancellationToken);
        }

        await LoadShadowsAsync(cancellationToken);
    }

    private async Task LoadShadowsAsync(CancellationToken cancellationToken)
    {
        foreach (var shadow in _models.Values.Select(e => e.Serving?.Spec).SelectMany(ShadowsOf).Distinct().ToList())
        {
            var entry = _models.GetValueOrDefault(shadow.Name);
            if (entry?.State == ModelState.Unloaded)
            {
                // Unloaded by an operator: being another model's shadow does not bring it back (its shadow work is skipped).
                continue;
            }

            var present = shadow.Version is null ? entry?.Serving is not null : entry?.Loaded.ContainsKey(shadow.Version) == true;
            if (!present && !(entry?.Tried.ContainsKey(shadow.Version ?? "(flat)") ?? false))
            {
                await TryLoadAsync(shadow.Name, shadow.Version, serve: entry?.Serving is null && shadow.Version is null, unlessUnloaded: true, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Start-up and polling: loads the pinned or highest version of <paramref name="name"/> to serve. When the highest
    /// (not pinned) fails and no version serves the model, the next lower version that loads serves instead, so one
    /// broken copy does not take the model down; the broken one stays listed as failed with its reason. Throws the
    /// highest version's failure when none loads.
    /// </summary>
    private async Task LoadServingAsync(string name, bool unlessUnloaded, CancellationToken cancellationToken)
    {
        try
        {
            await LoadAsync(name, null, serve: true, unlessUnloaded, cancellationToken);
        }
        catch (ModelUnavailableException failed) when (failed.Status == StatusCodes.Status422UnprocessableEntity)
        {
            var folder = ModelFolders.Find(_options.Directory, name);
            if (folder is not { Versioned: true } || _options.Versions.ContainsKey(name) || _models[name].Serving is not null)
            {
                throw;
            }

            var highest = folder.Versions[^1];
            foreach (var lower in folder.Versions.Take(folder.Versions.Count - 1).Reverse())
            {
                try
                {
                    await LoadAsync(name, lower, serve: true, unlessUnloaded, cancellationToken);
                    logger.LogWarning("Model {Model} serves version {Version}, the highest that loads: version {Highest} failed: {Reason}",
                        name, lower, highest, failed.Message);
                    return;
                }
                catch (ModelUnavailableException e) when (e.Status == StatusCodes.Status422UnprocessableEntity)
                {
                    // Recorded as failed too; try the next one down.
                }
            }

            throw;
        }
    }

    private async Task TryLoadServingAsync(string name, bool unlessUnloaded, CancellationToken cancellationToken) =>
        await Isolated(name, () => LoadServingAsync(name, unlessUnloaded, cancellationToken));

    private async Task TryLoadAsync(string name, string? version, bool serve, bool unlessUnloaded, CancellationToken cancellationToken) =>
        await Isolated(name, () => LoadAsync(name, version, serve, unlessUnloaded, cancellationToken));

    /// <summary>
    /// Runs a load that is not the default model's: whatever it throws (a refusal, or an error nobody foresaw in a
    /// stranger's files) is recorded as that model's failure, and the start or the poller goes on with the others.
    /// </summary>
    private async Task Isolated(string name, Func<Task> load)
    {
        try
        {
            await load();
        }
        catch (ModelUnavailableException)
        {
            // Logged and recorded by LoadAsync; the other models still serve.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Model {Model} failed to load; the other models still serve", name);
        }
    }

    private IEnumerable<ModelFolder> ToServe()
    {
        var all = ModelFolders.Scan(_options.Directory);
        return _options.Serve.Length == 0 ? all : all.Where(f => _options.Serve.Contains(f.Name, StringComparer.Ordinal));
    }

    private LoadedModel Open(ModelFolder folder, string? version)
    {
        if (folder.Name == ReservedName)
        {
            throw new ModelConfigurationException(
                $"{folder.Name}: a model cannot be named '{ReservedName}': GET /models/{ReservedName} compares two models. Rename its folder.");
        }

        var started = Stopwatch.GetTimestamp();
        var classifier = ModelLoader.Load(folder, version, _options.IntraOpThreads, logger);
        try
        {
            // Warm-up: the first request must not pay for ONNX Runtime's first run.
            classifier.DecideOutputKind();
            classifier.Classify(new float[classifier.Spec.Input.TensorLength], new float[classifier.Spec.Output.Classes]);
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or UnusableOutputException)
        {
            // An ONNX Runtime error, or an output the service cannot use: every request would fail the same way, so
            // the version fails to load instead. The reason says what to change; ONNX Runtime's own message names the node.
            classifier.Dispose();
            throw new ModelConfigurationException($"{folder.Name}: the model failed its warm-up runs (an all-zero input, then a ramp): {e.Message}");
        }

        logger.LogDebug("Opened {Model} in {Ms} ms", folder.Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new LoadedModel(classifier, new ImagePredictor(preprocessor, classifier, metrics), DateTimeOffset.UtcNow);
    }

    /// <summary>What the files of a version look like now: a change means polling loads it again.</summary>
    private static string Fingerprint(ModelFolder folder, string? version)
    {
        var path = version is null ? folder.Path : Path.Combine(folder.Path, version);
        if (!System.IO.Directory.Exists(path))
        {
            return "";
        }

        return string.Join("|", System.IO.Directory.GetFiles(path).Order(StringComparer.Ordinal)
            .Select(f => new FileInfo(f)).Select(f => $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
    }
}
