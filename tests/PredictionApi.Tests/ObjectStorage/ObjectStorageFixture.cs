using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.ObjectStorage;

/// <summary>The service in memory on its own database, storing inputs in a bucket of its own s3rver.</summary>
public sealed class ObjectStorageFixture : IAsyncLifetime
{
    public const string Bucket = "inputs-test";
    public const string Prefix = "uploads/";

    public S3rver S3 { get; private set; } = null!;

    public AmazonS3Client S3Client { get; private set; } = null!;

    public PredictionApiFactory Factory { get; private set; } = null!;

    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        S3 = await S3rver.StartNewAsync(Bucket);
        S3Client = S3.CreateClient();
        ConnectionString = await TestPostgres.CreateDatabaseAsync("s3");
        Factory = new PredictionApiFactory(ConnectionString, S3.Settings(Bucket, Prefix));
        _ = Factory.Server;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        S3Client.Dispose();
        await S3.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(ConnectionString);
    }

    public static string KeyOf(byte[] bytes) => Prefix + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The bytes of an object, or null when the bucket has no such key.</summary>
    public static async Task<byte[]?> TryGetObjectAsync(IAmazonS3 s3, string bucket, string key)
    {
        try
        {
            using var response = await s3.GetObjectAsync(bucket, key);
            using var buffer = new MemoryStream();
            await response.ResponseStream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<T> QuerySingleAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.QuerySingleAsync<T>(sql, parameters);
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing after <paramref name="seconds"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {seconds} s waiting until {what}.");
            await Task.Delay(200);
        }
    }
}

/// <summary>Images whose bytes no other test uses: an MNIST digit with one pixel set to a random value.</summary>
public static class UniqueImages
{
    private static int _next;

    public static byte[] Png(int digitIndex = -1)
    {
        var index = digitIndex >= 0 ? digitIndex : Interlocked.Increment(ref _next) % 1000;
        var pixels = Mnist.Images.Image(index).ToArray();
        // The corner pixel is background in MNIST; changing it leaves the digit alone.
        RandomNumberGenerator.Fill(pixels.AsSpan(0, 2));
        return TestImages.PngGray8(28, 28, pixels);
    }
}
