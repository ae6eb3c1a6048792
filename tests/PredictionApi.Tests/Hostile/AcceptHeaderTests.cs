using System.Net;
using System.Text;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Clients whose Accept header lists no JSON type (an image viewer asking for image/png, a client that only says
/// application/xml or text/html): their errors are still problem details, never an empty body, a text/plain page or a 500.
/// </summary>
public sealed class AcceptHeaderTests(HostileService service) : IClassFixture<HostileService>
{
    public static TheoryData<string, string> Refusals()
    {
        var data = new TheoryData<string, string>();
        foreach (var accept in new[] { "application/xml", "text/plain", "image/png", "text/html" })
        {
            // Raised as an exception (the exception handler), by routing (status code pages), by a handler, by middleware.
            foreach (var refusal in new[] { "not an image", "wrong method", "no such route", "malformed id", "gzip body" })
            {
                data.Add(accept, refusal);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task AnErrorIsProblemDetailsWhateverTheAcceptHeaderLists(string accept, string refusal)
    {
        var before = await service.CountRowsAsync();
        using var request = refusal switch
        {
            "not an image" => new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = TestImages.Form("just some notes"u8.ToArray(), "notes.txt", "text/plain") },
            "wrong method" => new HttpRequestMessage(HttpMethod.Put, "/prediction/1"),
            "no such route" => new HttpRequestMessage(HttpMethod.Get, "/no/such/route"),
            "malformed id" => new HttpRequestMessage(HttpMethod.Get, "/prediction/abc/image"),
            _ => new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = Gzipped() },
        };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await service.Client.SendAsync(request);

        var problem = await HostileAssert.ProblemAsync(response, 4, $"{refusal} with Accept: {accept}");
        Assert.True(problem.TryGetProperty("trace_id", out _), $"{refusal} with Accept: {accept}: no trace_id");
        Assert.Equal(before, await service.CountRowsAsync());
    }

    private static ByteArrayContent Gzipped()
    {
        var content = new ByteArrayContent([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, .. Encoding.ASCII.GetBytes("not really")]);
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=x");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }
}
