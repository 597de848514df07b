using System.Globalization;
using System.Text;
using Harness.Core.Energy;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Reports;

/// <summary>
/// The words and number formats every report writer shares (report.md, report.html, the run diff), so a figure reads
/// the same in each. Every number goes through the invariant culture.
/// </summary>
public static class ReportText
{
    /// <summary>Writes a rendered document as UTF-8 without a byte-order mark and flushes.</summary>
    public static async Task WriteUtf8Async(string text, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static string Inv(FormattableString text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.ToString(CultureInfo.InvariantCulture);
    }

    public static string Percent(double value, string format = "0.0") =>
        (value * 100).ToString(format, CultureInfo.InvariantCulture) + "%";

    public static string Fixed(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    public static string SignedFixed(double value) => value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    /// <summary>A difference of rates in percentage points, signed.</summary>
    public static string SignedPoints(double value) =>
        (value * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pt";

    public static string PValue(double p) => p < 0.0001 ? "<0.0001" : p.ToString("0.0000", CultureInfo.InvariantCulture);

    public static string Number(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    public static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    public static string Ms(TimeSpan? value) => value is { } v ? Ms(v) : "–";

    /// <summary>Three significant digits, never exponent notation: joules per token can be 0.000123.</summary>
    public static string Sig(double value)
    {
        if (value == 0 || double.IsNaN(value) || double.IsInfinity(value))
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }

        var digits = Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, 9);
        return value.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// One format for a whole column of figures, so they line up and read alike: as many decimals as give the largest
    /// value three significant digits and the smallest non-zero one two (0.0081, 0.0123, 0.0219 rather than 0.00810,
    /// 0.0123, 0.0219 mixed with 0.123). Never exponent notation.
    /// </summary>
    public static Func<double, string> SigColumn(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var magnitudes = values.Where(v => v != 0 && double.IsFinite(v)).Select(Math.Abs).ToList();
        if (magnitudes.Count == 0)
        {
            return Sig;
        }

        int Decimals(double value, int significant) => significant - 1 - (int)Math.Floor(Math.Log10(value));
        var decimals = Math.Clamp(Math.Max(Decimals(magnitudes.Max(), 3), Decimals(magnitudes.Min(), 2)), 0, 9);
        var format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return v => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The runtime as the host reports it: ".NET 10.0.12" (older runs recorded the bare "10.0.12").</summary>
    public static string Runtime(string dotnetVersion)
    {
        ArgumentNullException.ThrowIfNull(dotnetVersion);
        return dotnetVersion.StartsWith(".NET", StringComparison.OrdinalIgnoreCase) ? dotnetVersion : ".NET " + dotnetVersion;
    }

    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b)
        {
            return "–";
        }

        const double KiB = 1024.0;
        return b switch
        {
            >= 1L << 30 => (b / (KiB * KiB * KiB)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
            >= 1L << 20 => (b / (KiB * KiB)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
            >= 1L << 10 => (b / KiB).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
            _ => b.ToString(CultureInfo.InvariantCulture) + " B",
        };
    }

    /// <summary>An enum member as the reports spell it: <c>LoadFailed</c> → <c>loadFailed</c>.</summary>
    public static string Name<T>(T value) where T : struct, Enum
    {
        var name = value.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>"p50 / p95 ms", or a dash when nothing was measured.</summary>
    public static string Latencies(PerformanceSummary performance)
    {
        ArgumentNullException.ThrowIfNull(performance);
        return performance.P50Latency is { } p50 && performance.P95Latency is { } p95
            ? Inv($"{Number(p50.TotalMilliseconds, "0")} / {Number(p95.TotalMilliseconds, "0")} ms")
            : "–";
    }

    /// <summary>
    /// What the bar is tested with, exactly: the lower bound of a two-sided interval, which on its own is a one-sided
    /// bound at (1 + confidence) / 2 (95 % → 97.5 %), not "95 % confidence" in the one-sided sense a reader assumes.
    /// </summary>
    public static string WilsonLowerBound(double confidence) =>
        Inv($"the lower bound of the two-sided {Percent(confidence, "0.#")} Wilson interval (a one-sided {Percent((1.0 + confidence) / 2.0, "0.##")} bound)");

    /// <summary>"288 scored, 2 failed, 10 missing of 300", or a dash for a report made before coverage existed.</summary>
    public static string CoverageText(Verdicts.Coverage? coverage) => coverage?.Describe() ?? "–";

    /// <summary>
    /// What a verdict on partial coverage rests on, for every place that names such a model as an answer:
    /// "on 950 of 1000 items; the 50 missing counted as failures". Empty when the coverage is complete or unknown.
    /// </summary>
    public static string PartialNote(Verdicts.Coverage? coverage) => coverage is { Missing: > 0 } c
        ? Inv($"on {c.Answered} of {c.Total} items; the {c.Missing} missing counted as failures")
        : "";

    /// <summary>How many items a verdict rests on and by which rule: "decided after 63 of 500 items (sequential)".</summary>
    public static string ItemsUsed(FixedSuiteVerdict verdict, int suiteItems)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        return verdict.Sequential is { } s
            ? s.Decided
                ? Inv($"decided after {s.ItemsUsed} of {s.ItemsInSuite} items (sequential)")
                : Inv($"{s.ItemsUsed} of {s.ItemsInSuite} items, not decided (sequential)")
            : Inv($"{verdict.Items} of {suiteItems} items (fixed-n)");
    }

    /// <summary>
    /// The coverage cell of a fixed-suite row: for a sequential verdict the items it used ("decided after 63 of 500
    /// items (sequential)"), with any failed or errored ones among them; otherwise the coverage of the suite's items.
    /// </summary>
    public static string CoverageCell(FixedSuiteVerdict verdict, int suiteItems)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdict.Sequential is null)
        {
            return verdict.Coverage is null ? ItemsUsed(verdict, suiteItems) : CoverageText(verdict.Coverage);
        }

        return verdict.Coverage is { Failed: 0, Errored: 0 } or null
            ? ItemsUsed(verdict, suiteItems)
            : $"{ItemsUsed(verdict, suiteItems)}; {verdict.Coverage.Describe()}";
    }

    /// <summary>A fixed suite's bar in one sentence.</summary>
    /// <param name="sequential">The suite ran until decided: its rule is the sequential test, not the Wilson bound.</param>
    public static string RequirementLine(Requirement requirement, bool sequential = false)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        var parts = new List<string>
        {
            sequential
                ? Inv($"pass rate ≥ {Percent(requirement.MinPassRate)} at {Percent(requirement.Confidence, "0.#")} two-sided confidence (anytime-valid sequential test, stopped when decided)")
                : Inv($"pass rate ≥ {Percent(requirement.MinPassRate)} by {WilsonLowerBound(requirement.Confidence)}"),
        };
        if (requirement.MaxP95Latency is { } latency)
        {
            parts.Add($"p95 latency ≤ {Ms(latency)}");
        }

        if (requirement.MaxJoulesPerItem is { } joules)
        {
            parts.Add(Inv($"energy ≤ {joules:0.###} J/item"));
        }

        return "Requirement: " + string.Join(", ", parts) + ".";
    }

    /// <summary>AC or battery, the charge, the governor and the thermal state, in one line.</summary>
    public static string PowerLine(PowerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var parts = new List<string>
        {
            state.PowerSource switch
            {
                PowerSource.Ac => "AC",
                PowerSource.Battery => "battery",
                _ => "power source unknown",
            },
        };
        if (state.BatteryPercent is { } percent)
        {
            parts.Add(Inv($"battery {percent:0.#}%"));
        }

        parts.Add(state.CpuGovernor is { } governor ? $"governor {governor}" : "governor unknown");
        if (state.ThermalState is { } thermal)
        {
            parts.Add($"thermal: {thermal}");
        }

        return string.Join(", ", parts);
    }
}

/// <summary>Markdown table cells, shared by report.md and the run diff.</summary>
internal static class MarkdownTable
{
    public static string Row(params string[] cells) => "| " + string.Join(" | ", cells.Select(Cell)) + " |";

    // A '|' inside a cell would split the table; a newline would end it.
    public static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
