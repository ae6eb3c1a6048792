using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>One file of a batch: its bytes, or why they were not kept (too large, empty).</summary>
public sealed record BatchFile(string FileName, byte[] Bytes, BatchError? Error);
