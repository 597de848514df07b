using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>numeric</c>: compares a number in the output with the target number, within
/// max(<c>tolerance</c>, <c>relative_tolerance</c> × |target|) (both default 0: exact).
/// Strict: the whole trimmed output is one number in invariant notation (<c>-12.5</c>, <c>3e8</c>; no thousands
/// separators, no decimal comma). Flexible: the last number anywhere in the output, where comma-grouped
/// thousands (<c>1,234</c>) are read as one number, as lm-eval's flexible extraction does.
/// </summary>
public sealed partial class NumericScorer : IScorer
{
    public const string ScorerName = "numeric";

    private readonly double tolerance;
    private readonly double relativeTolerance;

    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative or not finite.</exception>
    public NumericScorer(double tolerance, double relativeTolerance)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        ArgumentOutOfRangeException.ThrowIfNegative(relativeTolerance);
        if (!double.IsFinite(tolerance) || !double.IsFinite(relativeTolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), "tolerances must be finite");
        }

        this.tolerance = tolerance;
        this.relativeTolerance = relativeTolerance;
    }

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        if (!TryParseTarget(input.Item.Target, out var target))
        {
            return new Score(Name, 0.0, null, 0.0, null, $"target {TextNormalizer.Quote(input.Item.Target)} is not a number");
        }

        var trimmed = input.Output.Trim();
        double? strict = StrictNumber().IsMatch(trimmed) ? Parse(trimmed) : null;
        var matches = AnyNumber().Matches(input.Output);
        double? flexible = matches.Count > 0 ? Parse(matches[^1].Value.Replace(",", string.Empty, StringComparison.Ordinal)) : null;

        return Scores.Binary(
            Name,
            Within(strict, target),
            Format(strict),
            Within(flexible, target),
            Format(flexible),
            () => strict is null
                ? $"output is not a single number (expected {Format(target)})"
                : $"expected {Format(target)}{ToleranceText(target)}, got {Format(strict)}");
    }

    /// <summary>Targets may be written with thousands separators; they are data, not model output.</summary>
    internal static bool TryParseTarget(string text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out value)
        && double.IsFinite(value);

    private bool Within(double? value, double target) =>
        value is { } v && Math.Abs(v - target) <= Allowed(target);

    private double Allowed(double target) => Math.Max(tolerance, relativeTolerance * Math.Abs(target));

    private string ToleranceText(double target) =>
        Allowed(target) > 0 ? $" ± {Format(Allowed(target))}" : string.Empty;

    private static double Parse(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string? Format(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex StrictNumber();

    // A sign counts only when it does not follow a word character or ')': "3-4" ends in 4, not -4.
    [GeneratedRegex(@"(?:(?<![\w)])[+-])?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex AnyNumber();
}

public sealed class NumericScorerFactory : IScorerFactory
{
    public string Name => NumericScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        NumericScorer.ScorerName,
        "A number in the output equals the target number within max(`tolerance`, `relative_tolerance` × |target|). "
        + "Strict: the whole trimmed output is one number in invariant notation (`-12.5`, `3e8`; no thousands separators, "
        + "no decimal comma). Flexible: the last number anywhere in the output, `1,234` read as one number.",
        [
            new("tolerance", ScorerArgumentType.Number, "absolute tolerance, 0 or more") { Default = "0" },
            new("relative_tolerance", ScorerArgumentType.Number, "tolerance as a fraction of |target|, 0 or more") { Default = "0" },
        ],
        """{"tolerance": 0.01}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        return new NumericScorer(
            args.NonNegativeNumber("tolerance", defaultValue: 0.0),
            args.NonNegativeNumber("relative_tolerance", defaultValue: 0.0));
    }
}
