using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PredictionApi.Storage.InputStores;

/// <summary>Checks the object storage settings at start-up, with messages that say how to fix them.</summary>
internal sealed partial class ObjectStorageOptionsValidator : IValidateOptions<ObjectStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, ObjectStorageOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled && string.IsNullOrWhiteSpace(options.Bucket))
        {
            failures.Add("ObjectStorage:Bucket must name the bucket to store inputs in when ObjectStorage:Enabled is true.");
        }

        if (!string.IsNullOrWhiteSpace(options.Bucket) && !BucketName().IsMatch(options.Bucket))
        {
            failures.Add($"ObjectStorage:Bucket '{options.Bucket}' is not a bucket name: 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit.");
        }

        if (!string.IsNullOrWhiteSpace(options.ServiceUrl) &&
            !(Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            failures.Add($"ObjectStorage:ServiceUrl '{options.ServiceUrl}' must be an absolute http:// or https:// URL such as http://127.0.0.1:9000, or empty for AWS S3.");
        }

        if (string.IsNullOrWhiteSpace(options.Region))
        {
            failures.Add("ObjectStorage:Region must be set, for example 'us-east-1'.");
        }

        if (string.IsNullOrEmpty(options.AccessKey) != string.IsNullOrEmpty(options.SecretKey))
        {
            failures.Add("Set both ObjectStorage:AccessKey and ObjectStorage:SecretKey, or neither to use the default AWS credentials (environment, profile, instance role).");
        }

        if (options.Prefix.StartsWith('/') || options.Prefix.Contains("//", StringComparison.Ordinal) || options.Prefix.Length > 512)
        {
            failures.Add($"ObjectStorage:Prefix '{options.Prefix}' must not start with '/' or contain '//' (for example 'inputs/', or empty).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}
