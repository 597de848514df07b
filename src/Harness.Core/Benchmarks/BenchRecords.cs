using System.Collections.Immutable;
using Harness.Core.Contention;
using Harness.Core.Runs;

namespace Harness.Core.Benchmarks;

/// <summary>
/// One line of a benchmark table: a test on one model under one configuration, over <paramref name="Repetitions"/>
/// timed repetitions after the warm-up.
/// </summary>
/// <param name="Engine"><c>harness</c>, or <c>raw</c> for the llama.cpp C API reference program.</param>
/// <param name="Test">llama-bench's names: <c>pp512</c>, <c>tg128</c>, <c>pp512+tg128</c>; suite tests: <c>suite:NAME</c>
/// (items/s of the evaluation itself), <c>mc-reuse</c>/<c>mc-naive</c> (multiple-choice items/s).</param>
/// <param name="Unit"><c>t/s</c> (aggregate over parallel sequences) or <c>items/s</c>.</param>
/// <param name="TimeToFirstTokenMs">Mean time to first token (prompt decode plus choosing it), null where the test has none.</param>
/// <param name="Values">The measurement of every timed repetition (the evidence behind mean and deviation).</param>
/// <param name="InDecodeMsPerToken">Generation tests: mean time per generation step inside <c>llama_decode</c>.</param>
/// <param name="OutsideDecodeUsPerToken">Generation tests: mean time per generation step outside it (the engine's own work).</param>
/// <param name="Contention">How busy the machine was while the harness's repetitions were timed (the busiest round);
/// null for raw rows and where not sampled.</param>
public sealed record BenchRow(
    string Engine,
    string Model,
    string Quantization,
    long FileSizeBytes,
    long Parameters,
    string Test,
    int Threads,
    int BatchSize,
    int Depth,
    int GpuLayers,
    int Parallel,
    int Repetitions,
    string Unit,
    double Mean,
    double StandardDeviation,
    double? TimeToFirstTokenMs,
    double? TimeToFirstTokenSdMs,
    ImmutableArray<double> Values,
    ImmutableArray<double> TimeToFirstTokenValues,
    double? InDecodeMsPerToken = null,
    double? OutsideDecodeUsPerToken = null,
    ModelContention? Contention = null)
{
    /// <summary>
    /// The untimed warm-up repetitions' measurements, in order: discarded from the figures and kept as evidence of what
    /// the first calls cost. Empty for raw rows (the raw program warms up on its own).
    /// </summary>
    public ImmutableArray<double> WarmupValues { get; init; } = [];

    /// <summary>Why the figure may not be trustworthy (<see cref="BenchReliability"/>); empty when nothing was found.</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>The result cell: <c>300.00 ± 3.00 t/s</c>, or <c>300.00 t/s (n=1)</c> for one repetition, which has no spread.</summary>
    public string ResultText => Repetitions == 1
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Mean:F2} {Unit} (n=1)")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Mean:F2} ± {StandardDeviation:F2} {Unit}");

    /// <summary>What a reference row must share to be compared with this one.</summary>
    public (string Test, int Threads, int BatchSize, int Depth, int Parallel) ComparisonKey => (Test, Threads, BatchSize, Depth, Parallel);
}

/// <summary>A <c>harness bench</c> run: the rows, the machine they were measured on and the libraries used.</summary>
/// <param name="Reference">Rows of the raw C-API program measured alongside, for the ratio column; empty without <c>--raw</c>.</param>
/// <param name="BusyThresholds">Above these a row's figures were measured on a busy machine and are marked; null: the defaults.</param>
public sealed record BenchReport(
    DateTimeOffset CreatedAt,
    string CommandLine,
    HostFacts Host,
    ImmutableSortedDictionary<string, string> Versions,
    ImmutableArray<BenchRow> Rows,
    ImmutableArray<BenchRow> Reference,
    ContentionThresholds? BusyThresholds = null)
{
    /// <summary>Why <paramref name="row"/> was measured on a busy machine, or null.</summary>
    public BusyMachine? BusyFor(BenchRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return (BusyThresholds ?? ContentionThresholds.Default).Check(row.Contention);
    }
}

/// <summary>Mean and sample standard deviation, as llama-bench reports them.</summary>
public static class BenchStatistics
{
    public static (double Mean, double StandardDeviation) MeanAndSd(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            throw new ArgumentException("No values.", nameof(values));
        var mean = values.Average();
        if (values.Count == 1)
            return (mean, 0);
        var sumOfSquares = values.Sum(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(sumOfSquares / (values.Count - 1)));
    }
}
