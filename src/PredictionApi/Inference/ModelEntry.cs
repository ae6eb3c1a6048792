namespace PredictionApi.Inference;

/// <summary>
/// One model name's versions: which are loaded, which one serves requests that name no version, and what became of
/// every load tried. Loads and unloads of one model run one at a time (<see cref="Gate"/>); requests read
/// <see cref="Serving"/> and <see cref="Loaded"/> without locks.
/// </summary>
internal sealed class ModelEntry(string name)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ModelVersionStatus> _versions = new(StringComparer.Ordinal);
    private volatile LoadedModel? _serving;
    // What the last load or unload left when no version serves: loading until the first load ends.
    private ModelState _outcome = ModelState.Loading;
    private volatile IReadOnlyDictionary<string, LoadedModel> _loaded = new Dictionary<string, LoadedModel>(StringComparer.Ordinal);

    public string Name { get; } = name;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public LoadedModel? Serving => _serving;

    public IReadOnlyDictionary<string, LoadedModel> Loaded => _loaded;

    /// <summary>What the last change to this model was about, when it left no version serving.</summary>
    public string? Reason { get; private set; }

    public bool Loading { get; private set; }

    /// <summary>The file fingerprint of the last load tried per version, so polling does not retry a broken folder unchanged.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> Tried { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<ModelVersionStatus> Versions
    {
        get
        {
            lock (_lock)
            {
                return _versions.Values.OrderBy(v => v.Version, VersionOrder.Instance).ToList();
            }
        }
    }

    public void MarkLoading(string version)
    {
        lock (_lock)
        {
            Loading = true;
            var earlier = _versions.GetValueOrDefault(version);
            _versions[version] = new ModelVersionStatus(version, "loading", earlier?.Serving ?? false, null, earlier?.Sha256, earlier?.LoadedAt);
        }
    }

    public void MarkFailed(string version, string reason)
    {
        lock (_lock)
        {
            Loading = false;
            var earlier = _versions.GetValueOrDefault(version);
            // A version that failed to reload keeps serving from its loaded session, and says why the new load failed.
            var state = _loaded.ContainsKey(version) ? "ready" : "failed";
            _versions[version] = new ModelVersionStatus(version, state, earlier?.Serving ?? false, reason, earlier?.Sha256, earlier?.LoadedAt);
            if (_serving is null)
            {
                Reason = reason;
                _outcome = ModelState.Failed;
            }
        }
    }

    /// <summary>A load refused before any version was tried: recorded as the reason when nothing serves.</summary>
    public void Refuse(string reason)
    {
        lock (_lock)
        {
            if (_serving is null)
            {
                Loading = false;
                Reason = reason;
                _outcome = ModelState.Failed;
            }
        }
    }

    /// <summary>Adds a loaded version (replacing the same version loaded before) and, when <paramref name="serve"/>, makes it the serving one.</summary>
    /// <returns>The models no longer reachable, to retire.</returns>
    public List<LoadedModel> Add(LoadedModel model, bool serve)
    {
        lock (_lock)
        {
            Loading = false;
            var version = model.Spec.Version;
            var retired = new List<LoadedModel>();
            var loaded = new Dictionary<string, LoadedModel>(_loaded, StringComparer.Ordinal);
            if (loaded.TryGetValue(version, out var replaced))
            {
                retired.Add(replaced);
            }

            loaded[version] = model;
            var serving = serve || _serving is null || _serving.Spec.Version == version ? model : _serving;
            if (serve && _serving is { } previous && previous.Spec.Version != version)
            {
                // Load-then-swap: the version that served until now leaves with the swap.
                loaded.Remove(previous.Spec.Version);
                retired.Add(previous);
                _versions[previous.Spec.Version] = _versions[previous.Spec.Version] with { State = "unloaded", Serving = false, Reason = $"replaced by {version}" };
            }

            _loaded = loaded;
            _serving = serving;
            Reason = null;
            foreach (var v in _versions.Keys.ToList())
            {
                _versions[v] = _versions[v] with { Serving = v == serving.Spec.Version };
            }

            _versions[version] = new ModelVersionStatus(version, "ready", serving == model, null, model.Spec.Sha256, model.LoadedAt);
            return retired;
        }
    }

    /// <summary>Removes a loaded version, or every one when <paramref name="version"/> is null.</summary>
    /// <returns>The models removed, to retire.</returns>
    public List<LoadedModel> Remove(string? version, string reason)
    {
        lock (_lock)
        {
            var removed = _loaded.Values.Where(m => version is null || m.Spec.Version == version).ToList();
            var loaded = _loaded.Where(p => version is not null && p.Key != version).ToDictionary(StringComparer.Ordinal);
            _loaded = loaded;
            if (_serving is { } serving && removed.Contains(serving))
            {
                _serving = null;
                Reason = reason;
                _outcome = ModelState.Unloaded;
            }

            foreach (var m in removed)
            {
                _versions[m.Spec.Version] = _versions[m.Spec.Version] with { State = "unloaded", Serving = false, Reason = reason };
            }

            return removed;
        }
    }

    /// <summary>The model's state as a whole: ready while a version serves.</summary>
    public ModelState State => _serving is not null ? ModelState.Ready : Loading ? ModelState.Loading : _outcome;
}
