using System.Collections.Immutable;
using System.Globalization;

namespace Harness.Core.Gguf;

/// <summary>
/// Weight matrices that did not get the requested type because their rows do not split into its blocks.
/// llama.cpp then picks a type with smaller blocks per tensor (a K-quant's 256 falls back to a 32-element type,
/// or to F16 when even that does not fit) and only says so in its log.
/// </summary>
/// <param name="Requested">The type the file type is named for, e.g. <see cref="GgmlType.Q4_K"/> for Q4_K_M.</param>
/// <param name="RowMultiple">Elements per block of <paramref name="Requested"/>: rows must be a multiple of it.</param>
/// <param name="FellBack">Weight matrices whose row size is not such a multiple, as llama.cpp counts them: the output
/// matrix is not one, because llama.cpp's mix gives it Q8_0 directly when its rows do not fit.</param>
/// <param name="WeightCount">All weight matrices llama.cpp quantizes (2-D or more, named <c>*weight</c>, not norms).
/// llama.cpp's own summary divides by every tensor of the file instead, norms included.</param>
/// <param name="FallbackTypes">Types the matrices that fell back actually got, with how many of each.</param>
/// <param name="RowSizes">Distinct row sizes of the matrices that fell back, ascending.</param>
public sealed record QuantizationFallback(
    GgmlType Requested,
    int RowMultiple,
    int FellBack,
    int WeightCount,
    ImmutableSortedDictionary<GgmlType, int> FallbackTypes,
    ImmutableArray<long> RowSizes)
{
    /// <summary>For a table: <c>13 of 14 weight matrices to Q5_0 (rows of 64 not divisible by 256)</c>.</summary>
    public string Summary
    {
        get
        {
            var types = FallbackTypes.Count == 1
                ? FallbackTypes.Keys.Single().ToString()
                : string.Join(", ", FallbackTypes.Select(t => Invariant($"{t.Key} ({t.Value})")));
            return Invariant($"{FellBack} of {WeightCount} weight matrices to {types} (rows of {string.Join(", ", RowSizes)} not divisible by {RowMultiple})");
        }
    }

    /// <summary>For manifest metadata: <c>13/14 weight matrices: row size 64 not a multiple of 256</c>.</summary>
    public string MetadataValue => RowSizes.Length == 1
        ? Invariant($"{FellBack}/{WeightCount} weight matrices: row size {RowSizes[0]} not a multiple of {RowMultiple}")
        : Invariant($"{FellBack}/{WeightCount} weight matrices: row sizes {string.Join(", ", RowSizes)} not multiples of {RowMultiple}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What a quantizer actually wrote, read from the output file's tensor table.</summary>
public static class QuantizedTensors
{
    /// <summary>Tensor count per type, in type-id order: <c>F32:13 Q8_0:14</c>.</summary>
    public static string Histogram(GgufFile file) =>
        string.Join(' ', file.Tensors
            .GroupBy(t => t.Type)
            .OrderBy(g => (int)g.Key)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key}:{g.Count()}")));

    /// <summary>
    /// True for the tensors llama.cpp's quantizer converts: at least 2-D, named <c>*weight</c>, not a norm.
    /// (llama.cpp also skips a few architecture-specific names; none of them occur in llama models.)
    /// </summary>
    public static bool IsQuantizedWeight(GgufTensorInfo tensor) =>
        tensor.Dimensions.Length >= 2
        && tensor.Name.EndsWith("weight", StringComparison.Ordinal)
        && !tensor.Name.Contains("_norm.weight", StringComparison.Ordinal);

    /// <summary>
    /// The weight matrices of <paramref name="output"/> that could not take <paramref name="requested"/> because
    /// their row size is not a multiple of its block size, or null when every one could. A matrix the file type
    /// deliberately gives a larger type (Q6_K in a Q4_K_M mix) has rows that fit, so it is not counted. Nor is the
    /// output matrix (<c>output.weight</c>, or <c>token_embd.weight</c> when the embeddings are tied): llama.cpp's mix
    /// gives it Q8_0 when its rows do not fit, which its log does not call a fallback. So the count is llama.cpp's own.
    /// </summary>
    public static QuantizationFallback? FindFallback(GgufFile output, GgmlType requested)
    {
        ArgumentNullException.ThrowIfNull(output);
        var rowMultiple = GgmlTypeInfo.BlockSize(requested);
        var weights = output.Tensors.Where(IsQuantizedWeight).ToList();
        var outputMatrix = weights.Any(t => t.Name == "output.weight") ? "output.weight" : "token_embd.weight";
        var fellBack = weights
            .Where(t => t.Type != requested && t.Dimensions[0] % rowMultiple != 0 && t.Name != outputMatrix)
            .ToList();
        if (fellBack.Count == 0)
        {
            return null;
        }

        return new QuantizationFallback(
            requested,
            rowMultiple,
            fellBack.Count,
            weights.Count,
            fellBack.GroupBy(t => t.Type).ToImmutableSortedDictionary(g => g.Key, g => g.Count()),
            [.. fellBack.Select(t => t.Dimensions[0]).Distinct().Order()]);
    }
}
