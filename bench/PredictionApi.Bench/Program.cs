// Tools for bench/run.sh: writes MNIST test digits as PNG files for the HTTP load,
// measures raw ONNX Runtime throughput on the served model, the ceiling for the service, and the cost
// of each stage of an upload with the service's own code.
using PredictionApi.Bench;

return args switch
{
    ["pngs", var images, var outDir, var count] => PngWriter.Write(images, outDir, int.Parse(count)),
    ["onnx", var modelDir, var images, var seconds] => OnnxThroughput.Run(modelDir, images, double.Parse(seconds)),
    ["stages", var modelDir, var pngDir] => await RequestStages.RunAsync(modelDir, pngDir, null),
    ["stages", var modelDir, var pngDir, var connection] => await RequestStages.RunAsync(modelDir, pngDir, connection),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage:
          PredictionApi.Bench pngs <t10k-images-idx3-ubyte.gz> <out-dir> <count>
          PredictionApi.Bench onnx <model-dir> <t10k-images-idx3-ubyte.gz> <seconds-per-case>
          PredictionApi.Bench stages <model-dir> <png-dir> [connection-string]
        """);
    return 2;
}
