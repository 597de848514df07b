using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Serialization;

namespace Harness.Cli.Output;

/// <summary>What <c>harness quantize --json</c> prints: the facts of its table, one document. Paths are relative to the current folder, as in the table.</summary>
/// <param name="Input">The base GGUF that was quantized.</param>
/// <param name="BaseId">Its manifest id, or the one made from its file name.</param>
/// <param name="Manifest">The manifest the entries went into; null: none (a path without --add-to, or --no-manifest).</param>
/// <param name="Log">llama.cpp's log of every quantization of this command.</param>
internal sealed record QuantizeJson(string Input, string BaseId, string? Manifest, string Log, ImmutableArray<QuantizedFileJson> Files)
{
    public string Serialize() => JsonSerializer.Serialize(this, HarnessJson.IndentedOptions);
}

/// <summary>One written file, as one row of the table.</summary>
/// <param name="Type">llama.cpp's name of the type.</param>
/// <param name="BitsPerParameter">File bits per parameter: the whole file's bytes (header included) × 8 over the parameter count.</param>
/// <param name="Fallback">Weight matrices that got another type than asked for, as the written file's header shows; null: none, or a type without a named tensor type.</param>
/// <param name="LlamaCpp">What llama.cpp's own log said: its warning count and its "N of M tensor(s) required fallback".</param>
/// <param name="ManifestId">The entry written for it; null: none was asked for, or the manifest refused it (<paramref name="ManifestError"/>).</param>
/// <param name="ManifestReplaced">The entry replaced one with the same id.</param>
/// <param name="ManifestEntry">With <paramref name="ManifestError"/>: the entry's text, to add by hand.</param>
internal sealed record QuantizedFileJson(
    string Type,
    string File,
    long SizeBytes,
    double BitsPerParameter,
    double DurationSeconds,
    QuantizeFallbackJson? Fallback,
    QuantizeLogJson LlamaCpp,
    string? ManifestId,
    bool ManifestReplaced,
    string? ManifestError,
    string? ManifestEntry);

/// <param name="FellBack">Weight matrices written in another type.</param>
/// <param name="WeightMatrices">All weight matrices of the file.</param>
/// <param name="Summary">The table's cell, e.g. <c>8 of 9 weight matrices to Q5_0 (rows of 96 not divisible by 256)</c>.</param>
internal sealed record QuantizeFallbackJson(int FellBack, int WeightMatrices, string Summary);

/// <param name="ReportedFallbacks">N of llama.cpp's closing line; null when it printed none.</param>
/// <param name="ReportedTensors">M of that line: every tensor of the file, norms included.</param>
internal sealed record QuantizeLogJson(int Warnings, int? ReportedFallbacks, int? ReportedTensors);
