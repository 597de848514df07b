namespace Harness.Core.Statistics;

/// <summary>A closed interval [<paramref name="Lower"/>, <paramref name="Upper"/>].</summary>
public sealed record Interval(double Lower, double Upper)
{
    public bool Contains(double value) => value >= Lower && value <= Upper;
}

/// <summary>A pass rate with its confidence interval.</summary>
/// <param name="Confidence">Two-sided confidence level of <paramref name="Interval"/>, e.g. 0.95.</param>
public sealed record ProportionEstimate(int Successes, int Trials, double Rate, Interval Interval, double Confidence);

/// <summary>A sample mean with its Student-t confidence interval.</summary>
/// <param name="StandardDeviation">Sample standard deviation (n - 1 denominator); 0 for a single value.</param>
/// <param name="Interval">Null when fewer than two values make the interval undefined.</param>
public sealed record MeanEstimate(int Count, double Mean, double StandardDeviation, Interval? Interval, double Confidence);
