using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PredictionApi.Training.Export;

/// <summary>Writes model.json in the format of models/README.md for a grayscale NCHW classifier with logits output.</summary>
internal static class Manifest
{
    public static JsonObject Create(string name, string version, string description, byte[] onnx,
        int height, int width, string profile, IEnumerable<string> labels, JsonObject metrics, JsonObject training) => new()
    {
        ["name"] = name,
        ["version"] = version,
        ["description"] = description,
        ["file"] = "model.onnx",
        ["sha256"] = Sha256(onnx),
        ["input"] = new JsonObject
        {
            ["name"] = "input",
            ["layout"] = "NCHW",
            ["height"] = height,
            ["width"] = width,
            ["channels"] = 1,
            ["scaling"] = "unit",
            ["resize"] = "stretch",
            // How the training images were made (mnist: digits centred by mass; fashion: products filling the frame); the service reproduces it.
            ["profile"] = profile,
            ["background"] = "#ffffff",
        },
        ["output"] = new JsonObject { ["name"] = "logits", ["kind"] = "logits" },
        ["labels"] = new JsonArray([.. labels.Select(l => JsonValue.Create(l))]),
        ["metrics"] = metrics,
        ["training"] = training,
    };

    public static void Write(string path, JsonObject manifest) =>
        File.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Md5(string path) => Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(path)));
}
