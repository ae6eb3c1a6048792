using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Tests.ObjectStorage;

namespace PredictionApi.Tests.Predictions;

/// <summary>GET /prediction/{id} and /prediction/{id}/image give the upload back alike whether its bytes are kept in PostgreSQL or in a bucket.</summary>
public sealed class StoredImageTests(ServiceFixture database, ObjectStorageFixture objectStorage)
    : IClassFixture<ServiceFixture>, IClassFixture<ObjectStorageFixture>
{
    [Theory]
    [InlineData("database")]
    [InlineData("object")]
    public async Task AStoredPredictionComesBackWithItsImageAsADataUrl(string storage)
    {
        using var client = Factory(storage).CreateClient();
        var png = UniqueImages.Png();
        var posted = await client.PostPredictionAsync(png, "four.png");
        var id = posted.GetProperty("prediction_id").GetInt64();
        Assert.Equal(storage, await StorageKindAsync(storage, id));

        var stored = await client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");

        Assert.Equal(id, stored.GetProperty("prediction_id").GetInt64());
        Assert.Equal(posted.GetProperty("input_id").GetInt64(), stored.GetProperty("input_id").GetInt64());
        Assert.Equal("four.png", stored.GetProperty("filename").GetString());
        Assert.Equal("image/png", stored.GetProperty("contenttype").GetString());
        Assert.Equal(posted.GetProperty("prediction").ToString(), stored.GetProperty("prediction").ToString());
        Assert.Equal(posted.GetProperty("likely_class").GetInt32(), stored.GetProperty("likely_class").GetInt32());
        Assert.Equal(posted.GetProperty("confidence").GetSingle(), stored.GetProperty("confidence").GetSingle());
        Assert.Equal(posted.GetProperty("model").ToString(), stored.GetProperty("model").ToString());
        Assert.Equal(posted.GetProperty("created_at").GetDateTime(), stored.GetProperty("created_at").GetDateTime());
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("true_label").ValueKind);
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("note").ValueKind);
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), stored.GetProperty("image").GetString());
        // The bulky data URL comes after every other field.
        Assert.Equal("image", stored.EnumerateObject().Last().Name);
    }

    /// <summary>
    /// The upload reader copies a file that fits its 16 KiB read chunk out of the chunk, and a longer one through a growing
    /// buffer: each length around the edge comes back byte for byte. The PNG is padded to the length with a text chunk.
    /// </summary>
    [Theory]
    [InlineData(16_383)]
    [InlineData(16_384)]
    [InlineData(16_385)]
    [InlineData(40_000)]
    public async Task AnUploadOfAnyLengthAroundTheReadChunkIsStoredByteForByte(int length)
    {
        using var client = Factory("database").CreateClient();
        var pixels = Mnist.Images.Image(length % 100);
        var bare = TestImages.PngGray8(28, 28, pixels);
        // A chunk adds 12 bytes around its data: length, type and CRC.
        var text = new byte[length - bare.Length - 12];
        "Comment\0"u8.CopyTo(text);
        text.AsSpan(8).Fill((byte)'x');
        var png = TestImages.Png(28, 28, 8, 0, 1, pixels, ("tEXt", text));
        Assert.Equal(length, png.Length);

        var id = (await client.PostPredictionAsync(png)).GetProperty("prediction_id").GetInt64();
        var stored = await client.GetByteArrayAsync($"/prediction/{id}/image");

        Assert.Equal(png, stored);
    }

    [Theory]
    [InlineData("database")]
    [InlineData("object")]
    public async Task TheImageEndpointReturnsTheUploadedBytesWithTheirContentType(string storage)
    {
        using var client = Factory(storage).CreateClient(new() { AllowAutoRedirect = false });
        var png = UniqueImages.Png();
        var id = (await client.PostPredictionAsync(png)).GetProperty("prediction_id").GetInt64();
        Assert.Equal(storage, await StorageKindAsync(storage, id));

        using var response = await client.GetAsync($"/prediction/{id}/image");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());
    }

    private PredictionApiFactory Factory(string storage) => storage == "object" ? objectStorage.Factory : database.Factory;

    private async Task<string> StorageKindAsync(string storage, long id)
    {
        await using var connection = new NpgsqlConnection(storage == "object" ? objectStorage.ConnectionString : database.ConnectionString);
        return await connection.QuerySingleAsync<string>(
            "SELECT i.storage_kind FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.id = @id", new { id });
    }
}
