using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Inference;

/// <summary>Configuration section "Model": which model folder to serve and how to run it.</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>Folder holding model folders; defaults to models/ next to the service binaries.</summary>
    [Required(ErrorMessage = "Model:Directory must name the folder that holds model folders (default: models/ next to the binaries).")]
    public string Directory { get; set; } = Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>The default model: the one that answers requests that name none. It must load for the service to start.</summary>
    [Required(ErrorMessage = "Model:Name must name a folder inside Model:Directory, for example 'mnist'.")]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$", ErrorMessage = "Model:Name must be a plain folder name (letters, digits, '.', '_', '-').")]
    public string Name { get; set; } = "mnist";

    /// <summary>
    /// Threads one inference may use. 1 suits small models on few cores: requests run in parallel
    /// instead, and no thread spins waiting for work another request needs the core for.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Model:IntraOpThreads must be between 1 and 64 (default 1).")]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>The model folders to serve; empty serves every model folder in <see cref="Directory"/>.</summary>
    public string[] Serve { get; set; } = [];

    /// <summary>Pinned versions by model name (Model:Versions:mnist=1); a model not listed serves its highest version.</summary>
    public Dictionary<string, string> Versions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Shadow models by model name (Model:Shadows:mnist:0=mnist-next): each names a model, or a model and version as
    /// "name:version", that also classifies every input the model classifies. Added to the shadows model.json lists.
    /// </summary>
    public Dictionary<string, string[]> Shadows { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Seconds between looks at <see cref="Directory"/> for new models and versions; 0 turns polling off.</summary>
    [Range(0, 86400, ErrorMessage = "Model:PollSeconds must be between 0 (off) and 86400.")]
    public int PollSeconds { get; set; }

    /// <summary>Shadow inputs waiting to be classified; beyond it, shadow work is dropped rather than slowing requests.</summary>
    [Range(1, 100000, ErrorMessage = "Model:ShadowQueue must be between 1 and 100000 (default 1000).")]
    public int ShadowQueue { get; set; } = 1000;

    public string Folder => Path.Combine(Directory, Name);
}
