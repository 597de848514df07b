using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Contention;
using Harness.Core.Reports;
using Harness.Core.Serialization;

namespace Harness.Core.Benchmarks;

/// <summary>Writes a <see cref="BenchReport"/> as llama-bench-style Markdown, CSV and JSON.</summary>
public static class BenchWriters
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Marks a result that carries warnings; they are listed under the table.</summary>
    public const string WarningMark = "⚠";

    /// <summary>The table, with a <c>raw C</c> and <c>ratio</c> column when a reference row matches, and the fingerprint.</summary>
    public static string Markdown(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var withReference = !report.Reference.IsDefaultOrEmpty;
        var withContention = report.Rows.Any(r => r.Contention is not null);
        var text = new StringBuilder();
        text.Append("| model | quant | size | params | threads | n_batch | parallel | depth | gpu layers | test | result | TTFT ms |");
        text.Append(withContention ? " other CPU |" : "");
        text.AppendLine(withReference ? " raw C | ratio |" : "");
        text.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        text.Append(withContention ? "---:|" : "");
        text.AppendLine(withReference ? "---:|---:|" : "");
        foreach (var row in report.Rows)
        {
            text.Append(Invariant, $"| {row.Model} | {row.Quantization} | {Size(row.FileSizeBytes)} | {Parameters(row.Parameters)} | {row.Threads} | {row.BatchSize} | ");
            text.Append(Invariant, $"{row.Parallel} | {row.Depth} | {row.GpuLayers} | {row.Test} | {row.ResultText}{(row.Warnings.IsDefaultOrEmpty ? "" : " " + WarningMark)} | ");
            text.Append(row.TimeToFirstTokenMs is { } ttft
                ? row.Repetitions == 1 ? string.Create(Invariant, $"{ttft:F1}") : string.Create(Invariant, $"{ttft:F1} ± {row.TimeToFirstTokenSdMs ?? 0:F1}")
                : "-");
            text.Append(" |");
            if (withContention)
            {
                var busy = report.BusyFor(row) is null ? "" : " " + ContentionText.BusyMark;
                text.Append(Invariant, $" {ContentionText.Share(row.Contention?.OtherProcessesShare)}{busy} |");
            }
            if (withReference)
            {
                var raw = FindReference(report, row);
                text.Append(raw is null
                    ? " - | - |"
                    : string.Create(Invariant, $" {(raw.Repetitions == 1 ? $"{raw.Mean:F2} (n=1)" : $"{raw.Mean:F2} ± {raw.StandardDeviation:F2}")} | {row.Mean / raw.Mean:F3}x |"));
            }
            text.AppendLine();
        }

        var busyRows = report.Rows.Select(r => (Row: r, Busy: report.BusyFor(r))).Where(r => r.Busy is not null).ToList();
        if (busyRows.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(string.Create(Invariant,
                $"> **Warning: measured on a busy machine.** {busyRows.Count} of {report.Rows.Length} rows ({ContentionText.BusyMark}): {string.Join("; ", busyRows.Select(r => $"{r.Row.Test} t={r.Row.Threads}: {r.Busy!.Reason}"))}. llama.cpp's threads wait for each other every step, so other work on the cores slows them far more than its share; measure again on a quiet machine."));
        }

        var warned = report.Rows.Where(r => !r.Warnings.IsDefaultOrEmpty).ToList();
        if (warned.Count > 0)
        {
            text.AppendLine();
            text.AppendLine(string.Create(Invariant, $"> **{WarningMark} Figures to distrust** ({warned.Count} of {report.Rows.Length} rows):"));
            foreach (var row in warned)
                text.AppendLine(string.Create(Invariant, $"> - {row.Model} {row.Test} t={row.Threads} p={row.Parallel} d={row.Depth}: {string.Join("; ", row.Warnings)}"));
        }

        var host = report.Host;
        text.AppendLine();
        text.AppendLine(string.Create(Invariant,
            $"Machine: {host.CpuModel}, {host.LogicalCores} logical cores, {host.TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB; {host.OperatingSystem} ({host.Architecture}); {host.DotnetVersion}{(host.DebugBuild ? " (DEBUG build: figures not representative)" : "")}; CPU features: {string.Join(' ', host.CpuFeatures)}."));
        text.AppendLine(string.Create(Invariant, $"Libraries: {string.Join(", ", report.Versions.Select(v => $"{v.Key}={v.Value}"))}."));
        if (report.Rows.Any(r => r.Contention is not null))
        {
            var thresholds = report.BusyThresholds ?? ContentionThresholds.Default;
            text.AppendLine(string.Create(Invariant,
                $"Contention: \"other CPU\" is the share of the machine's CPU time used by other processes while the harness's repetitions were timed (busiest round); busy above {ContentionThresholds.Percent(thresholds.MaxOtherProcessesShare)} (or {ContentionThresholds.Percent(thresholds.MaxStealShare)} stolen)."));
        }

        text.AppendLine(string.Create(Invariant, $"Measured {report.CreatedAt:yyyy-MM-dd HH:mm} UTC with: `{report.CommandLine}`"));
        return text.ToString();
    }

    public static string Csv(BenchReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.AppendLine("engine,model,quantization,file_size_bytes,parameters,test,threads,n_batch,depth,gpu_layers,parallel,repetitions,unit,mean,sd,ttft_ms_mean,ttft_ms_sd,in_decode_ms_per_step,outside_decode_us_per_step,raw_mean,ratio,other_cpu_share,steal_share,harness_cpu_share,load_1m_max,busy,warnings");
        foreach (var row in report.Rows.Concat(report.Reference.IsDefault ? [] : report.Reference))
        {
            var raw = row.Engine == "harness" ? FindReference(report, row) : null;
            text.AppendLine(string.Join(',',
                Field(row.Engine), Field(row.Model), Field(row.Quantization), N(row.FileSizeBytes), N(row.Parameters), Field(row.Test),
                N(row.Threads), N(row.BatchSize), N(row.Depth), N(row.GpuLayers), N(row.Parallel), N(row.Repetitions), Field(row.Unit),
                D(row.Mean), D(row.StandardDeviation), D(row.TimeToFirstTokenMs), D(row.TimeToFirstTokenSdMs),
                D(row.InDecodeMsPerToken), D(row.OutsideDecodeUsPerToken), D(raw?.Mean), D(raw is null ? null : row.Mean / raw.Mean),
                D(row.Contention?.OtherProcessesShare), D(row.Contention?.StealShare), D(row.Contention?.HarnessShare),
                D(row.Contention?.LoadAverage1mMax), Field(report.BusyFor(row)?.Reason ?? ""),
                Field(row.Warnings.IsDefaultOrEmpty ? "" : string.Join("; ", row.Warnings))));
        }

        return text.ToString();
    }

    public static string Json(BenchReport report) => JsonSerializer.Serialize(report, HarnessJson.Options);

    /// <summary>The raw C-API row measured under the same test and configuration, if any.</summary>
    public static BenchRow? FindReference(BenchReport report, BenchRow row)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(row);
        return report.Reference.IsDefaultOrEmpty
            ? null
            : report.Reference.FirstOrDefault(r => r.Model == row.Model && r.ComparisonKey == row.ComparisonKey && r.Mean > 0);
    }

    private static string Size(long bytes) => bytes >= 1 << 30
        ? string.Create(Invariant, $"{bytes / (1024.0 * 1024 * 1024):F2} GiB")
        : string.Create(Invariant, $"{bytes / (1024.0 * 1024):F2} MiB");

    private static string Parameters(long count) => count >= 1_000_000
        ? string.Create(Invariant, $"{count / 1e6:F1} M")
        : string.Create(Invariant, $"{count / 1e3:F1} K");

    private static string N(long value) => value.ToString(Invariant);

    private static string D(double? value) => value is { } v ? v.ToString("R", Invariant) : "";

    private static string Field(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
