using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Serialization;
using LLama.Native;

namespace Harness.Backends.LlamaSharp;

/// <summary>What one quantization produced.</summary>
/// <param name="Log">What llama.cpp's log said about it (the log itself went to the caller's writer).</param>
public sealed record QuantizationResult(string InputPath, string OutputPath, string Type, long InputBytes, long OutputBytes, TimeSpan Duration, QuantizeLogSummary Log);

/// <summary>llama.cpp's own quantizer (<c>llama_model_quantize</c>) on a GGUF file.</summary>
public static class LlamaQuantizer
{
    /// <summary>Target types by their llama.cpp names.</summary>
    public static ImmutableSortedDictionary<string, LLamaFtype> Types { get; } = new Dictionary<string, LLamaFtype>
    {
        ["F16"] = LLamaFtype.MOSTLY_F16,
        ["BF16"] = LLamaFtype.MOSTLY_BF16,
        ["Q8_0"] = LLamaFtype.MOSTLY_Q8_0,
        ["Q6_K"] = LLamaFtype.MOSTLY_Q6_K,
        ["Q5_K_M"] = LLamaFtype.MOSTLY_Q5_K_M,
        ["Q5_0"] = LLamaFtype.MOSTLY_Q5_0,
        ["Q4_K_M"] = LLamaFtype.MOSTLY_Q4_K_M,
        ["Q4_0"] = LLamaFtype.MOSTLY_Q4_0,
        ["Q3_K_M"] = LLamaFtype.MOSTLY_Q3_K_M,
        ["Q2_K"] = LLamaFtype.MOSTLY_Q2_K,
    }.ToImmutableSortedDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>What writes the files, for lineage records: <c>llama.cpp c0c7e14 via LLamaSharp 0.30.0</c>.</summary>
    public static string Name
    {
        get
        {
            var versions = LlamaNativeRuntime.StaticVersions();
            return $"llama.cpp {versions["llama.cpp"]} via LLamaSharp {versions["LLamaSharp"]}";
        }
    }

    /// <param name="nativeLog">Receives llama.cpp's whole log of this quantization (all levels, failures included);
    /// null: its warnings and errors go to standard error as elsewhere.</param>
    /// <exception cref="ModelLoadException">Unknown type, unreadable input, or llama.cpp refused (its log lines are quoted).</exception>
    public static async Task<QuantizationResult> QuantizeAsync(
        string inputPath, string outputPath, string type, int threads, TextWriter? nativeLog, CancellationToken cancellationToken)
    {
        if (!Types.TryGetValue(type, out var ftype))
        {
            throw new ModelLoadException($"unknown quantization type '{type}'; known: {string.Join(", ", Types.Keys)}");
        }

        if (!File.Exists(inputPath))
        {
            throw new ModelLoadException($"cannot quantize '{inputPath}': file not found");
        }

        LlamaNativeRuntime.EnsureInitialized();
        LlamaNativeRuntime.TakeRecentErrors();
        var temporary = AtomicFile.TemporaryPathFor(outputPath);
        var started = System.Diagnostics.Stopwatch.StartNew();
        // The quantizer is one blocking native call; it cannot be interrupted once started.
        cancellationToken.ThrowIfCancellationRequested();
        // The log is kept whole (it is parsed below) and handed to the caller's writer even when the call fails.
        using var captured = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        var capture = nativeLog is null ? null : LlamaNativeRuntime.CaptureLog(captured);
        try
        {
            var status = await Task.Run(() =>
            {
                var parameters = LLamaModelQuantizeParams.Default();
                parameters.nthread = threads;
                parameters.ftype = ftype;
                return NativeApi.llama_model_quantize(inputPath, temporary, ref parameters);
            }, cancellationToken).ConfigureAwait(false);
            if (status != 0)
            {
                var said = LlamaNativeRuntime.TakeRecentErrors();
                throw new ModelLoadException($"llama.cpp could not quantize '{inputPath}' to {type} (status {status}){(said.Count > 0 ? ": " + string.Join("; ", said) : "")}");
            }

            AtomicFile.Commit(temporary, outputPath);
        }
        finally
        {
            capture?.Dispose();
            if (nativeLog is not null)
            {
                await nativeLog.WriteAsync(captured.ToString()).ConfigureAwait(false);
                await nativeLog.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }

            File.Delete(temporary);
        }

        return new QuantizationResult(inputPath, outputPath, type.ToUpperInvariant(), new FileInfo(inputPath).Length, new FileInfo(outputPath).Length,
            started.Elapsed, QuantizeLogSummary.Parse(captured.ToString()));
    }
}
