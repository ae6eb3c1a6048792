using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Deletes;

/// <summary>DELETE /prediction/{id} with inputs in PostgreSQL.</summary>
public sealed class DeletePredictionTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    private async Task<(long Id, long InputId)> PostAsync(int digit)
    {
        var body = await _client.PostPredictionAsync(Mnist.Png(digit));
        return (body.GetProperty("prediction_id").GetInt64(), body.GetProperty("input_id").GetInt64());
    }

    private async Task<long> CountAsync(string table, long id)
    {
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        // The table name is one of two literals from this class.
        return await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table} WHERE id = @id", new { id });
    }

    [Fact]
    public async Task DeletingAPredictionRemovesItAndItsInputAndAnswers204()
    {
        var (id, inputId) = await PostAsync(3);
        var other = await PostAsync(4);

        using var response = await _client.DeleteAsync($"/prediction/{id}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        Assert.Equal(0, await CountAsync("predictions", id));
        Assert.Equal(0, await CountAsync("inputs", inputId));
        await ProblemAssert.AssertProblemAsync(await _client.GetAsync($"/prediction/{id}"), HttpStatusCode.NotFound, $"no prediction {id}");
        await ProblemAssert.AssertProblemAsync(await _client.GetAsync($"/prediction/{id}/image"), HttpStatusCode.NotFound);
        // Its neighbour is untouched.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/prediction/{other.Id}")).StatusCode);
    }

    [Fact]
    public async Task DeletingTheSamePredictionTwiceIs404TheSecondTime()
    {
        var (id, _) = await PostAsync(5);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/prediction/{id}")).StatusCode);
        await ProblemAssert.AssertProblemAsync(await _client.DeleteAsync($"/prediction/{id}"), HttpStatusCode.NotFound, $"There is no prediction {id}");
    }

    [Fact]
    public async Task AnInputStaysWhileAnotherPredictionUsesItAndGoesWithTheLastOne()
    {
        var (first, inputId) = await PostAsync(6);
        long second;
        await using (var connection = new NpgsqlConnection(service.ConnectionString))
        {
            // A second model's prediction on the same stored image.
            second = await connection.ExecuteScalarAsync<long>("""
                INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
                SELECT input_id, 'other', '2', probabilities, likely_class, confidence FROM predictions WHERE id = @first
                RETURNING id
                """, new { first });
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/prediction/{first}")).StatusCode);
        Assert.Equal(1, await CountAsync("inputs", inputId));
        using (var image = await _client.GetAsync($"/prediction/{second}/image"))
        {
            Assert.Equal(Mnist.Png(6), await image.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/prediction/{second}")).StatusCode);
        Assert.Equal(0, await CountAsync("inputs", inputId));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("1e3")]
    [InlineData("99999999999999999999")]
    public async Task ADeleteOfSomethingThatIsNotAnIdIs400(string id)
    {
        using var response = await _client.DeleteAsync($"/prediction/{id}");
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "not a prediction id");
    }

    [Fact]
    public async Task ADeleteOfAnUnknownIdIs404AndDeletesNothing()
    {
        var (id, _) = await PostAsync(7);
        using var response = await _client.DeleteAsync($"/prediction/{long.MaxValue}");
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.NotFound, "There is no prediction");
        Assert.Equal(1, await CountAsync("predictions", id));
    }
}
