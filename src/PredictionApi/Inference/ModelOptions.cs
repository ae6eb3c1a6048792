using System.ComponentModel.DataAnnotations;

namespace PredictionApi.Inference;

/// <summary>Configuration section "Model": which model folder to serve and how to run it.</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>Folder holding model folders; defaults to models/ next to the service binaries.</summary>
    [Required(ErrorMessage = "Model:Directory must name the folder that holds model folders (default: models/ next to the binaries).")]
    public string Directory { get; set; } = Path.Combine(AppContext.BaseDirectory, "models");

    /// <summary>The model folder to serve, inside <see cref="Directory"/>.</summary>
    [Required(ErrorMessage = "Model:Name must name a folder inside Model:Directory, for example 'mnist'.")]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]*$", ErrorMessage = "Model:Name must be a plain folder name (letters, digits, '.', '_', '-').")]
    public string Name { get; set; } = "mnist";

    /// <summary>
    /// Threads one inference may use. 1 suits small models on few cores: requests run in parallel
    /// instead, and no thread spins waiting for work another request needs the core for.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Model:IntraOpThreads must be between 1 and 64 (default 1).")]
    public int IntraOpThreads { get; set; } = 1;

    public string Folder => Path.Combine(Directory, Name);
}
