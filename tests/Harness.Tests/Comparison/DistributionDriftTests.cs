using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Comparison;

namespace Harness.Tests.Comparison;

public class DistributionDriftTests
{
    private static PositionDistribution Base(int next, double[] probabilities, int[] ids) => new(
        next,
        (float)Math.Log(probabilities[Array.IndexOf(ids, next)]),
        [.. ids],
        [.. probabilities.Select(p => (float)Math.Log(p))],
        []);

    private static PositionDistribution Candidate(int next, double nextProbability, int top, double[] probed) => new(
        next, (float)Math.Log(nextProbability), [top], [0f], [.. probed.Select(p => (float)Math.Log(p))]);

    [Fact]
    public void A_distribution_against_itself_has_zero_kl_full_agreement_and_zero_delta_p()
    {
        var basePosition = Base(2, [0.5, 0.3, 0.2], [7, 2, 9]);
        var same = Candidate(2, 0.3, 7, [0.5, 0.3, 0.2]);

        var drift = DistributionDrift.Measure(basePosition, same);

        Assert.Equal(0.0, drift.KlDivergence, 6);
        Assert.True(drift.TopTokenAgrees);
        Assert.Equal(0.0, drift.DeltaP, 6);
    }

    [Fact]
    public void Kl_and_delta_p_match_a_hand_computed_full_vocabulary_example()
    {
        // Vocabulary of 3, so top-3 is exact. P = (0.5, 0.3, 0.2), Q = (0.4, 0.4, 0.2):
        // KL = 0.5 ln(0.5/0.4) + 0.3 ln(0.3/0.4) + 0 = 0.5 * 0.22314355 + 0.3 * (-0.28768207) = 0.02526715.
        var drift = DistributionDrift.Measure(Base(1, [0.5, 0.3, 0.2], [0, 1, 2]), Candidate(1, 0.4, 0, [0.4, 0.4, 0.2]));

        Assert.Equal(0.02526715, drift.KlDivergence, 6);
        // Actual next token 1: 0.4 - 0.3.
        Assert.Equal(0.1, drift.DeltaP, 6);
        Assert.True(drift.TopTokenAgrees);
    }

    [Fact]
    public void Tokens_outside_the_top_k_are_pooled_into_one_bin()
    {
        // Base top-2 of a larger vocabulary: 0.6, 0.3 (rest 0.1). Candidate at those: 0.5, 0.3 (rest 0.2).
        // KL = 0.6 ln(0.6/0.5) + 0.3 ln(1) + 0.1 ln(0.1/0.2) = 0.10939293 - 0.06931472 = 0.04007821.
        var drift = DistributionDrift.Measure(Base(5, [0.6, 0.3], [5, 8]), Candidate(5, 0.5, 8, [0.5, 0.3]));

        Assert.Equal(0.04007821, drift.KlDivergence, 6);
        Assert.False(drift.TopTokenAgrees);
        Assert.Equal(-0.1, drift.DeltaP, 6);
    }

    [Fact]
    public void Traces_of_different_tokens_are_refused_with_a_reason()
    {
        var timings = new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        var a = new DistributionTrace("ab", [1, 2], [Base(2, [1.0], [2])], timings);
        var b = new DistributionTrace("ab", [1, 3], [Candidate(3, 1.0, 3, [1.0])], timings);

        var error = Assert.Throws<ArgumentException>(() => DistributionDrift.Measure(a, b));
        Assert.Contains("tokenize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Probes_are_the_base_top_tokens_per_position()
    {
        var timings = new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        var trace = new DistributionTrace("abc", [1, 2, 3], [Base(2, [0.7, 0.3], [2, 4]), Base(3, [0.9, 0.1], [3, 1])], timings);

        var probes = DistributionDrift.ProbesFor(trace);

        Assert.Equal([2, 4], probes[0].AsEnumerable());
        Assert.Equal([3, 1], probes[1].AsEnumerable());
    }
}
