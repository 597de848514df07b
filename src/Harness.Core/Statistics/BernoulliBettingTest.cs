namespace Harness.Core.Statistics;

/// <summary>Which one-sided null a <see cref="BernoulliBettingTest"/> bets against.</summary>
public enum BetDirection
{
    /// <summary>Tests H0: p &lt;= m; rejecting it shows the rate is above m. Each item pays X - m.</summary>
    Above,
    /// <summary>Tests H0: p &gt;= m; rejecting it shows the rate is below m. Each item pays m - X.</summary>
    Below,
}

/// <summary>
/// An anytime-valid one-sided test of a Bernoulli rate by betting (Waudby-Smith and Ramdas 2023, "Estimating means of
/// bounded random variables by betting", JRSS-B). The capital K_t = prod(1 + lambda_i * payoff_i) is a nonnegative
/// supermartingale under the null, so by Ville's inequality P(K_t &gt;= 1/alpha for some t) &lt;= alpha: the test may be
/// looked at after every item and stopped at any time without inflating its error.
/// </summary>
/// <remarks>
/// The bet lambda_i is chosen from the earlier items only (predictable): the growth-optimal (Kelly) bet for a binary
/// outcome, (p - m) / (m (1 - m)), with p estimated by the observed rate shrunk toward m, clipped to a fraction of the
/// largest bet that cannot lose everything. Once rejected the test stays rejected (the first crossing is the decision).
/// Immutable: <see cref="Observe"/> returns the next state.
/// </remarks>
/// <param name="NullRate">m, in (0, 1).</param>
/// <param name="Alpha">Error of this side; the test rejects when the capital reaches 1/Alpha.</param>
/// <param name="Observations">Items seen so far (until rejection; later items are not counted).</param>
/// <param name="Successes">Successes among them.</param>
/// <param name="LogCapital">Natural log of the capital, starting at 0 (capital 1).</param>
/// <param name="RejectedAfter">Observations when the capital first reached 1/Alpha; null while not rejected.</param>
public readonly record struct BernoulliBettingTest(
    double NullRate, BetDirection Direction, double Alpha, int Observations, int Successes, double LogCapital, int? RejectedAfter)
{
    /// <summary>Largest bet as a fraction of the bet that would lose all the capital on one adverse item.</summary>
    public const double MaxBetFraction = 0.75;

    /// <summary>Weight, in items, of the prior guess p = m that the rate estimate starts from.</summary>
    public const double PriorItems = 5.0;

    /// <summary>A fresh test with capital 1.</summary>
    public static BernoulliBettingTest Start(double nullRate, BetDirection direction, double alpha)
    {
        if (!(nullRate > 0.0 && nullRate < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(nullRate), nullRate, "The null rate must be in (0, 1): at 0 or 1 one side cannot be tested.");
        }

        if (!(alpha > 0.0 && alpha < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be in (0, 1).");
        }

        return new BernoulliBettingTest(nullRate, direction, alpha, 0, 0, 0.0, null);
    }

    /// <summary>Whether the capital has reached 1/Alpha.</summary>
    public bool Rejected => RejectedAfter is not null;

    /// <summary>The capital K_t.</summary>
    public double Capital => Math.Exp(LogCapital);

    /// <summary>The bet on the next item, from the items seen so far only.</summary>
    public double NextBet()
    {
        double m = NullRate;
        double estimate = (Successes + PriorItems * m) / (Observations + PriorItems);
        double kelly = (Direction == BetDirection.Above ? estimate - m : m - estimate) / (m * (1.0 - m));
        // A loss on X = 0 (Above) costs lambda * m of the capital, on X = 1 (Below) lambda * (1 - m).
        double ceiling = MaxBetFraction / (Direction == BetDirection.Above ? m : 1.0 - m);
        return Math.Clamp(kelly, 0.0, ceiling);
    }

    /// <summary>The state after one more item; a rejected test ignores further items.</summary>
    public BernoulliBettingTest Observe(bool success)
    {
        if (Rejected)
        {
            return this;
        }

        double x = success ? 1.0 : 0.0;
        double payoff = Direction == BetDirection.Above ? x - NullRate : NullRate - x;
        double logCapital = LogCapital + Math.Log(1.0 + NextBet() * payoff);
        int observations = Observations + 1;
        // Compared in logs with a hair of slack so a capital of exactly 1/alpha, reached in exact arithmetic, counts.
        bool rejected = logCapital >= -Math.Log(Alpha) - 1e-12;
        return this with
        {
            Observations = observations,
            Successes = Successes + (success ? 1 : 0),
            LogCapital = logCapital,
            RejectedAfter = rejected ? observations : null,
        };
    }
}

/// <summary>
/// The two one-sided betting tests of a rate against a bar, each at (1 - confidence) / 2 as the fixed-n rule spends its
/// two-sided interval: "above" decides that the rate clears the bar, "below" that it falls short.
/// </summary>
public readonly record struct TwoSidedBettingTest(BernoulliBettingTest Above, BernoulliBettingTest Below)
{
    /// <summary>Both sides at capital 1, each at alpha = (1 - <paramref name="confidence"/>) / 2.</summary>
    public static TwoSidedBettingTest Start(double bar, double confidence)
    {
        if (!(confidence > 0.0 && confidence < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "Confidence must be in (0, 1).");
        }

        double alphaPerSide = (1.0 - confidence) / 2.0;
        return new TwoSidedBettingTest(
            BernoulliBettingTest.Start(bar, BetDirection.Above, alphaPerSide),
            BernoulliBettingTest.Start(bar, BetDirection.Below, alphaPerSide));
    }

    /// <summary>Whichever side rejected first; null while neither has.</summary>
    public BetDirection? Decision =>
        (Above.RejectedAfter, Below.RejectedAfter) switch
        {
            (null, null) => null,
            ({ }, null) => BetDirection.Above,
            (null, { }) => BetDirection.Below,
            // Both can only cross on the same item if that item decided both, which the caller never feeds: it stops.
            ({ } a, { } b) => a <= b ? BetDirection.Above : BetDirection.Below,
        };

    /// <summary>Items the decision used (the earlier crossing); null while undecided.</summary>
    public int? DecidedAfter => Decision switch
    {
        BetDirection.Above => Above.RejectedAfter,
        BetDirection.Below => Below.RejectedAfter,
        _ => null,
    };

    /// <summary>Feeds one item to both sides until one rejects; after that the state is frozen.</summary>
    public TwoSidedBettingTest Observe(bool success) =>
        Decision is not null ? this : new TwoSidedBettingTest(Above.Observe(success), Below.Observe(success));
}

/// <summary>
/// The confidence sequence that the betting tests invert: every rate m on a 0.001 grid whose two-sided test has not
/// rejected m by the last outcome, widened outward by one grid step. It holds at any stopping time with the same
/// confidence as the tests, so it is the interval to print beside a sequential verdict.
/// </summary>
public static class BettingConfidenceSequence
{
    /// <summary>Spacing of the rates tried.</summary>
    public const double GridStep = 0.001;

    /// <summary>The interval after <paramref name="outcomes"/> (in the order they were seen).</summary>
    public static Interval Interval(IReadOnlyList<bool> outcomes, double confidence)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        int steps = (int)Math.Round(1.0 / GridStep);
        double? lower = null;
        double upper = 0.0;
        for (int k = 1; k < steps; k++)
        {
            double m = k * GridStep;
            var test = TwoSidedBettingTest.Start(m, confidence);
            foreach (bool outcome in outcomes)
            {
                test = test.Observe(outcome);
                if (test.Decision is not null)
                {
                    break;
                }
            }

            if (test.Decision is null)
            {
                lower ??= m;
                upper = m;
            }
        }

        // Every grid rate rejected is a chance event (rarer than the error); then the interval claims nothing.
        return lower is { } low
            ? new Interval(Math.Max(0.0, low - GridStep), Math.Min(1.0, upper + GridStep))
            : new Interval(0.0, 1.0);
    }
}
