using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Harness.Backends.LlamaSharp;

/// <summary>One tensor that llama.cpp's quantizer gave another type than the mix chose, as its log line says.</summary>
/// <param name="Columns">The row size (<c>ncols</c>) that the chosen type's blocks do not divide.</param>
/// <param name="RequiredType">The type the mix chose, in ggml's spelling (<c>q4_K</c>).</param>
/// <param name="FallbackType">The type written instead (<c>q5_0</c>, or <c>f16</c> when no 32-element type fits).</param>
public sealed record LoggedFallback(string Tensor, long Columns, int BlockSize, string RequiredType, string FallbackType);

/// <summary>
/// What llama.cpp's quantizer (c0c7e14) said about one quantization. Its count of fallbacks is the tensors whose
/// chosen type did not fit their rows; <c>output.weight</c> is not among them when its rows do not fit a K-quant,
/// because the mix then chooses Q8_0 for it directly. The total it divides by is every tensor in the file
/// (<c>ml.n_tensors</c>: norms and other tensors that are never quantized included).
/// </summary>
/// <param name="Warnings">Log lines that contain "warning" (any case): one per fallback, plus llama.cpp's summary.</param>
/// <param name="ReportedFallbacks">N of llama.cpp's closing "N of M tensor(s) required fallback quantization"; null when it printed none.</param>
/// <param name="ReportedTensors">M of that line: every tensor of the file.</param>
public sealed partial record QuantizeLogSummary(
    int Warnings,
    ImmutableArray<LoggedFallback> Fallbacks,
    int? ReportedFallbacks,
    int? ReportedTensors)
{
    /// <summary>Reads the log text of one <c>llama_model_quantize</c> call.</summary>
    public static QuantizeLogSummary Parse(string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var warnings = 0;
        var fallbacks = ImmutableArray.CreateBuilder<LoggedFallback>();
        int? reported = null, tensors = null;
        foreach (var line in log.Split('\n'))
        {
            if (line.Contains("warning", StringComparison.OrdinalIgnoreCase))
                warnings++;
            if (FallbackLine().Match(line) is { Success: true } fallback)
            {
                fallbacks.Add(new LoggedFallback(
                    fallback.Groups["name"].Value,
                    long.Parse(fallback.Groups["cols"].Value, CultureInfo.InvariantCulture),
                    int.Parse(fallback.Groups["block"].Value, CultureInfo.InvariantCulture),
                    fallback.Groups["type"].Value,
                    fallback.Groups["fallback"].Value));
            }
            else if (SummaryLine().Match(line) is { Success: true } summary)
            {
                reported = int.Parse(summary.Groups["n"].Value, CultureInfo.InvariantCulture);
                tensors = int.Parse(summary.Groups["m"].Value, CultureInfo.InvariantCulture);
            }
        }

        return new QuantizeLogSummary(warnings, fallbacks.ToImmutable(), reported, tensors);
    }

    /// <summary>
    /// One console line for a whole <c>harness quantize</c>: per type, llama.cpp's warning count and its own fallback
    /// summary set against the table's <c>fell back</c> count (<paramref name="quantizations"/>' <c>FellBack</c>), then
    /// where the log is. E.g. <c>llama.cpp log: m-quantize.log (Q8_0: no warnings; Q4_K_M: 9 warnings; its "8 of 12
    /// tensor(s) required fallback" counts the same 8 as "fell back", out of all 12 tensors of the file, norms included)</c>.
    /// </summary>
    public static string ConsoleLine(IEnumerable<(string Type, QuantizeLogSummary Log, int FellBack)> quantizations, string logPath)
    {
        ArgumentNullException.ThrowIfNull(quantizations);
        var parts = quantizations.Select(q =>
        {
            var warnings = q.Log.Warnings switch
            {
                0 => "no warnings",
                1 => "1 warning",
                var n => string.Create(CultureInfo.InvariantCulture, $"{n} warnings"),
            };
            if (q.Log.ReportedFallbacks is not { } fell || q.Log.ReportedTensors is not { } all)
                return $"{q.Type}: {warnings}";
            var same = fell == q.FellBack
                ? string.Create(CultureInfo.InvariantCulture, $"the same {fell} as \"fell back\"")
                : string.Create(CultureInfo.InvariantCulture, $"{fell} where \"fell back\" counts {q.FellBack}");
            return string.Create(CultureInfo.InvariantCulture,
                $"{q.Type}: {warnings}; its \"{fell} of {all} tensor(s) required fallback\" counts {same}, out of all {all} tensors of the file, norms included");
        });
        return $"llama.cpp log: {logPath} ({string.Join("; ", parts)})";
    }

    // llama-quant.cpp: "warning: %-36s - ncols %6d not divisible by %3d (required for type %7s) " then, as a
    // second message, "-> falling back to %7s" (with "(WARNING: must use F16 due to unusual shape) " between).
    [GeneratedRegex(@"warning: (?<name>\S+)\s+- ncols\s+(?<cols>\d+) not divisible by\s+(?<block>\d+) \(required for type\s+(?<type>\S+)\).*?-> falling back to\s+(?<fallback>\S+)")]
    private static partial Regex FallbackLine();

    [GeneratedRegex(@"(?<n>\d+) of (?<m>\d+) tensor\(s\) required fallback quantization")]
    private static partial Regex SummaryLine();
}
