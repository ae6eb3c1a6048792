using PredictionApi.Commands;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.S3.Model;
using Dapper;
using Npgsql;
using PredictionApi.Predictions;
using PredictionApi.Tests.ObjectStorage;

namespace PredictionApi.Tests.Commands;

/// <summary>
/// The predict command run in-process through its entry point, against a fresh database per test, on a
/// temporary folder of MNIST PNGs (or an s3rver bucket).
/// </summary>
public sealed partial class PredictCommandTests : IAsyncLifetime
{
    private const int Digits = 24;
    private string _database = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("label");
        _folder = Directory.CreateTempSubdirectory("predictionapi-label-").FullName;
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        await TestPostgres.DropDatabaseAsync(_database);
    }

    /// <summary>24 digits in nested folders, a copy of one of them, a file that is not an image and a text file.</summary>
    private void WriteFolder()
    {
        for (var i = 0; i < Digits; i++)
        {
            var dir = Path.Combine(_folder, i % 2 == 0 ? "even" : Path.Combine("odd", "deeper"));
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, $"{i:00}.png"), Mnist.Png(i));
        }

        File.WriteAllBytes(Path.Combine(_folder, "copy-of-00.PNG"), Mnist.Png(0));
        File.WriteAllText(Path.Combine(_folder, "broken.png"), "this is not a PNG");
        File.WriteAllText(Path.Combine(_folder, "readme.txt"), "digits for labelling");
    }

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await PredictCommand.RunAsync([.. args, $"--ConnectionStrings:Predictions={_database}"], output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        return (await connection.ExecuteScalarAsync<T>(sql))!;
    }

    private static int Count(string output, string what) => int.Parse(Regex.Match(output, $@"^\s+{what}\s+(\d+)", RegexOptions.Multiline).Groups[1].Value);

    [Fact]
    public async Task FileNamesAreStoredCleanedAsUploadsAreAndLongPathsKeepTheirFileName()
    {
        var longFolder = Path.Combine(new string('a', 100), new string('b', 100), new string('c', 100));
        Directory.CreateDirectory(Path.Combine(_folder, longFolder));
        var files = new[] { "evil\u202Egnp.png", "bell\u0007\u001b[31m\u2066.png", Path.Combine(longFolder, "tail.png") };
        for (var i = 0; i < files.Length; i++)
        {
            File.WriteAllBytes(Path.Combine(_folder, files[i]), Mnist.Png(i));
        }

        var (exit, output, error) = await RunAsync(_folder);

        Assert.True(exit == 0, output + error);
        await using var connection = new NpgsqlConnection(_database);
        var stored = (await connection.QueryAsync<string>("SELECT filename FROM inputs ORDER BY filename")).ToList();
        // Control and bidi characters are gone; the 308-character path lost its leading folder, not its file name.
        Assert.Equal([$"{new string('b', 100)}/{new string('c', 100)}/tail.png", "bell[31m.png", "evilgnp.png"], stored);
    }

    [Fact]
    public async Task LabelsEveryImageReportsFailuresWithReasonsAndARerunSkipsWhatIsDone()
    {
        WriteFolder();

        var (exit, output, error) = await RunAsync(_folder);

        Assert.True(exit == PredictCommand.SomeFailed, output + error);
        Assert.Equal(Digits, Count(output, "predicted"));
        Assert.Equal(1, Count(output, "skipped"));
        Assert.Equal(1, Count(output, "failed"));
        Assert.Equal(1, Count(output, "ignored"));
        Assert.Matches(@"broken\.png: Not an image: The file is not an image", output);
        // Progress: count, rate and ETA, one plain line at a time when the output is not a terminal.
        Assert.Matches($@"(?m)^{Digits + 2}/{Digits + 2} \(100\.0%\)  predicted {Digits}, skipped 1, failed 1  [\d.]+ images/s  ETA 0:00$", output);

        Assert.Equal(Digits, await ScalarAsync<long>("SELECT count(*) FROM predictions"));
        Assert.Equal(Digits, await ScalarAsync<long>("SELECT count(*) FROM inputs"));
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM inputs WHERE filename = 'odd/deeper/03.png'"));

        // The per-class counts printed are those stored, and the model mostly agrees with MNIST's labels.
        await using (var connection = new NpgsqlConnection(_database))
        {
            var stored = (await connection.QueryAsync<(int Class, long Count)>("SELECT likely_class, count(*) FROM predictions GROUP BY 1")).ToList();
            foreach (var (cls, count) in stored)
            {
                Assert.Matches($@"(?m)^    {cls}\s+{count}$", output);
            }

            var correct = (await connection.QueryAsync<(string Name, int Class)>("SELECT filename, likely_class FROM predictions p JOIN inputs i ON i.id = p.input_id"))
                .Count(r => Mnist.Labels[int.Parse(Regex.Match(r.Name, @"(\d+)\.png$", RegexOptions.IgnoreCase).Groups[1].Value)] == r.Class);
            Assert.True(correct >= Digits - 1, $"{correct} of {Digits} correct");
        }

        // Re-run: everything already predicted by this model is skipped; the broken file still fails.
        var again = await RunAsync(_folder);
        Assert.Equal(PredictCommand.SomeFailed, again.Exit);
        Assert.Equal(0, Count(again.Output, "predicted"));
        Assert.Equal(Digits + 1, Count(again.Output, "skipped"));
        Assert.Equal(Digits, await ScalarAsync<long>("SELECT count(*) FROM predictions"));

        File.Delete(Path.Combine(_folder, "broken.png"));
        var clean = await RunAsync(_folder);
        Assert.Equal(PredictCommand.Ok, clean.Exit);
        Assert.Equal(0, Count(clean.Output, "failed"));
    }

    // Before, two links back made the walk branch twice per level, 40 levels deep: it never ended.
    [Fact(Timeout = 120_000)]
    public async Task LinkedFoldersAreFollowedButALinkBackToAnEnclosingFolderIsNotWalkedRound()
    {
        var outside = Directory.CreateTempSubdirectory("predictionapi-linked-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(_folder, "0.png"), Mnist.Png(0));
            Directory.CreateDirectory(Path.Combine(_folder, "sub"));
            File.WriteAllBytes(Path.Combine(_folder, "sub", "1.png"), Mnist.Png(1));
            File.WriteAllBytes(Path.Combine(outside, "2.png"), Mnist.Png(2));
            Directory.CreateSymbolicLink(Path.Combine(_folder, "sub", "root"), _folder);
            Directory.CreateSymbolicLink(Path.Combine(_folder, "sub", "up"), "..");
            Directory.CreateSymbolicLink(Path.Combine(_folder, "sub", "outside"), outside);

            var (exit, output, error) = await RunAsync(_folder);

            // One link back alone listed each image 40 times; with two, the walk never ended.
            Assert.True(exit == PredictCommand.Ok, output + error);
            Assert.Contains("Done in", output);
            Assert.Matches(@"\): 3 images", output);
            Assert.Equal(3, Count(output, "predicted"));
            Assert.Equal(0, Count(output, "skipped"));
            await using var connection = new NpgsqlConnection(_database);
            Assert.Equal(["0.png", "sub/1.png", "sub/outside/2.png"],
                (await connection.QueryAsync<string>("SELECT filename FROM inputs ORDER BY filename")).ToArray());
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task AFileOverTheUploadLimitFailsWithoutBeingReadAndTheOthersAreStored()
    {
        File.WriteAllBytes(Path.Combine(_folder, "0.png"), Mnist.Png(0));
        // Not read whole: a file over Upload:MaxBytes (here 4,096 bytes) fails by its size alone.
        File.WriteAllBytes(Path.Combine(_folder, "huge.png"), [.. Mnist.Png(1), .. new byte[8192]]);

        var (exit, output, error) = await RunAsync(_folder, "--Upload:MaxBytes=4096");

        Assert.True(exit == PredictCommand.SomeFailed, output + error);
        Assert.Equal(1, Count(output, "predicted"));
        Assert.Matches(@"huge\.png: cannot be read: it is [0-9,]+ bytes, more than Upload:MaxBytes \(4,096\)", output);
    }

    [Fact]
    public async Task AFileWhoseNameIsNotUtf8FailsWithThatReasonAndTheOthersAreStored()
    {
        File.WriteAllBytes(Path.Combine(_folder, "0.png"), Mnist.Png(0));
        // "caf\xe9.png", a Latin-1 name, made through the shell: .NET cannot name such a file itself.
        var latin1 = Path.Combine(_folder, "caf");
        File.WriteAllBytes(latin1, Mnist.Png(1));
        using (var rename = System.Diagnostics.Process.Start("sh", ["-c", "mv \"$0\" \"$0$(printf '\\351').png\"", latin1]))
        {
            await rename.WaitForExitAsync();
            Assert.Equal(0, rename.ExitCode);
        }

        try
        {
            var (exit, output, error) = await RunAsync(_folder);

            Assert.True(exit == PredictCommand.SomeFailed, output + error);
            Assert.Equal(1, Count(output, "predicted"));
            // It said "Could not find file" about a file the walk had just listed.
            Assert.Matches(@"caf\uFFFD\.png: cannot be read: its name is not valid UTF-8 text", output);
            Assert.DoesNotContain("Could not find file", output);
        }
        finally
        {
            // Directory.Delete cannot name it either.
            using var remove = System.Diagnostics.Process.Start("sh", ["-c", "rm -f \"$0\"/caf*.png", _folder]);
            await remove.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task AnotherModelVersionLabelsTheSameImagesOnTheirStoredInputs()
    {
        WriteFolder();
        File.Delete(Path.Combine(_folder, "broken.png"));
        Assert.Equal(PredictCommand.Ok, (await RunAsync(_folder)).Exit);

        // The same network published as version 2 in another models folder.
        var models = SyntheticModels.TempModelsFolder();
        try
        {
            var target = Directory.CreateDirectory(Path.Combine(models, "mnist")).FullName;
            foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Models, "mnist")))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }

            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "model.json")))!;
            manifest["version"] = "99.0.0";
            File.WriteAllText(Path.Combine(target, "model.json"), manifest.ToJsonString());

            var (exit, output, error) = await RunAsync(_folder, "--models-dir", models, "--model", "mnist");
            Assert.True(exit == PredictCommand.Ok, output + error);
            Assert.Contains("with mnist 99.0.0", output);
            Assert.Equal(Digits, Count(output, "predicted"));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }

        // No second copy of any image: the new predictions point at the inputs stored by the first run.
        Assert.Equal(Digits, await ScalarAsync<long>("SELECT count(*) FROM inputs"));
        Assert.Equal(2 * Digits, await ScalarAsync<long>("SELECT count(*) FROM predictions"));
        Assert.Equal(Digits, await ScalarAsync<long>("SELECT count(DISTINCT input_id) FROM predictions WHERE model_version = '2.0.0'"));
    }

    [Fact]
    public async Task LabelsTheImagesUnderAnS3Prefix()
    {
        await using var s3 = await S3rver.StartNewAsync("source");
        using var client = s3.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = "source", Key = $"digits/{i}.png", InputStream = new MemoryStream(Mnist.Png(i)), UseChunkEncoding = false });
        }

        await client.PutObjectAsync(new PutObjectRequest { BucketName = "source", Key = "digits/notes.txt", ContentBody = "notes", UseChunkEncoding = false });
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "source", Key = "other/9.png", InputStream = new MemoryStream(Mnist.Png(9)), UseChunkEncoding = false });

        var settings = s3.Settings("source");
        // Reading a source does not need inputs to be stored in object storage.
        settings["ObjectStorage:Enabled"] = "false";
        var (exit, output, error) = await RunAsync(["s3://source/digits/", .. settings.Select(s => $"--{s.Key}={s.Value}")]);

        Assert.True(exit == PredictCommand.Ok, output + error);
        Assert.Contains("Predicting s3://source/digits/", output);
        Assert.Equal(5, Count(output, "predicted"));
        Assert.Equal(1, Count(output, "ignored"));
        Assert.Equal("digits/0.png,digits/1.png,digits/2.png,digits/3.png,digits/4.png",
            await ScalarAsync<string>("SELECT string_agg(filename, ',' ORDER BY filename) FROM inputs"));
    }

    [Theory]
    [InlineData(new string[0], "Name the folder")]
    [InlineData(new[] { "/no/such/folder" }, "is not a folder or an s3://bucket/prefix URL")]
    [InlineData(new[] { "a", "b" }, "Only one source")]
    [InlineData(new[] { "a", "--model" }, "--model needs a value")]
    public async Task UsageErrorsExitWith2AndSayWhatIsWrong(string[] args, string message)
    {
        var (exit, _, error) = await RunAsync(args);
        Assert.Equal(PredictCommand.UsageError, exit);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task HelpPrintsUsageAndExits0()
    {
        var (exit, _, error) = await RunAsync("--help");
        Assert.Equal(PredictCommand.Ok, exit);
        Assert.Contains("Usage: PredictionApi predict <folder | s3://bucket/prefix>", error);
    }
}
