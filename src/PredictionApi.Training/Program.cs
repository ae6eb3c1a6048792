using PredictionApi.Training;

// Trains one of the repository's classifiers (the default digit model, or the clothing model) and exports it as an ONNX model folder, or evaluates such a folder.
const string usage = """
    usage:
      train    [--dataset mnist|fashion] (--data-dir DIR | --images F --labels F [--test-images F --test-labels F]) --out DIR
               [--seed 1] [--epochs 80] [--batch 64] [--lr 0.002] [--validation 1000] [--threads 2] [--limit N]
               [--model-version 2.0.0] [--label-smoothing 0.05] [--upload-share 0.5] [--non-digit-share 0.08]
               [--non-digits F] [--flip-share 0] [--max-shift 2.5]
               (defaults are mnist's; --dataset fashion: 20 epochs, validation 5000, flip share 0.5, shift 2 whole pixels,
               no uploads or non-digits; --data-dir DIR reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz there)
      evaluate --model DIR --images F --labels F [--batch 64] [--rounds 5]
      robustness [--dataset mnist|fashion] --model DIR --images F --labels F [--seed 1] [--validation 1000]
               [--test-images F --test-labels F] [--non-digits F]
               [--update-manifest true]
               (fashion: product photos of the validation split, which is 5000 images by default; --update-manifest
               records the table in the folder's model.json)
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(usage);
    return 0;
}
try
{
    var options = new Arguments(args.Skip(1));
    return args[0] switch
    {
        "train" => TrainCommand.Run(options, args),
        "evaluate" => EvaluateCommand.Run(options),
        "robustness" => RobustnessCommand.Run(options),
        _ => throw new ArgumentException($"Unknown command '{args[0]}'."),
    };
}
catch (Exception ex) when (ex is ArgumentException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    Console.Error.WriteLine(usage);
    return 2;
}
