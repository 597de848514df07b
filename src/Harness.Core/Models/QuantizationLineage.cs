using System.Collections.Immutable;
using System.Globalization;

namespace Harness.Core.Models;

/// <summary>
/// Where a quantized model came from, written by <c>harness quantize</c> as the <c>metadata</c> of its manifest
/// entry (keys in docs/manifest-format.md).
/// </summary>
/// <param name="BaseModel">Manifest id of the model that was quantized.</param>
/// <param name="BaseSha256">sha256 of the base file, so a later change of the base is visible.</param>
/// <param name="BaseFile">The base file relative to the manifest; only for a base that has no manifest entry.</param>
/// <param name="Quantization">llama.cpp file type, e.g. <c>Q4_K_M</c>.</param>
/// <param name="FileBytes">Size of the quantized file.</param>
/// <param name="BitsPerWeight">File bits divided by the parameter count (metadata and all).</param>
/// <param name="Quantizer">e.g. <c>llama.cpp c0c7e14 via LLamaSharp 0.30.0</c>.</param>
/// <param name="TensorTypes">Tensor count per type in the written file, e.g. <c>F32:13 Q8_0:14</c>.</param>
/// <param name="Fallback">Which matrices did not get the requested type and why; null when all did.</param>
public sealed record QuantizationLineage(
    string BaseModel,
    string BaseSha256,
    string? BaseFile,
    string Quantization,
    long FileBytes,
    double BitsPerWeight,
    string Quantizer,
    string TensorTypes,
    string? Fallback)
{
    /// <summary>The metadata entries, in the order they are written.</summary>
    public ImmutableArray<KeyValuePair<string, string>> ToMetadata()
    {
        var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        void Add(string key, string? value)
        {
            if (value is not null)
            {
                entries.Add(new(key, value));
            }
        }

        Add("base_model", BaseModel);
        Add("base_file", BaseFile);
        Add("base_sha256", BaseSha256);
        Add("quantization", Quantization);
        Add("file_bytes", FileBytes.ToString(CultureInfo.InvariantCulture));
        Add("bits_per_weight", BitsPerWeight.ToString("F2", CultureInfo.InvariantCulture));
        Add("quantizer", Quantizer);
        Add("tensor_types", TensorTypes);
        Add("fallback", Fallback);
        return entries.ToImmutable();
    }
}
