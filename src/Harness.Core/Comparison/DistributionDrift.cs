using System.Collections.Immutable;
using Harness.Core.Backends;

namespace Harness.Core.Comparison;

/// <summary>How one position's next-token distribution moved from base to candidate.</summary>
/// <param name="KlDivergence">KL(base ‖ candidate) in nats over the base's top-k tokens plus one bin for the rest.</param>
/// <param name="TopTokenAgrees">Both models' most likely token is the same.</param>
/// <param name="DeltaP">Candidate minus base probability of the token that actually follows (llama-perplexity's Δp).</param>
public readonly record struct PositionDrift(double KlDivergence, bool TopTokenAgrees, double DeltaP);

/// <summary>
/// Drift of a candidate's next-token distributions from its base on the same tokens, from top-k alone: the base
/// returns its k most likely tokens, the candidate is probed at exactly those, and everything else is pooled into
/// one "rest" bin on both sides. Merging bins never increases KL (log-sum inequality), so the figure is a lower
/// bound of the full-vocabulary KL, exact when k covers the vocabulary, and nothing of vocabulary size is stored.
/// </summary>
public static class DistributionDrift
{
    // A probability below this in the rest bin is rounding, not mass.
    private const double NegligibleMass = 1e-9;

    public static PositionDrift Measure(PositionDistribution basePosition, PositionDistribution candidatePosition)
    {
        ArgumentNullException.ThrowIfNull(basePosition);
        ArgumentNullException.ThrowIfNull(candidatePosition);
        if (basePosition.NextToken != candidatePosition.NextToken)
        {
            throw new ArgumentException(
                $"The positions predict different tokens (base {basePosition.NextToken}, candidate {candidatePosition.NextToken}); the models tokenize differently.");
        }

        if (basePosition.TopTokens.IsDefaultOrEmpty || candidatePosition.TopTokens.IsDefaultOrEmpty)
        {
            throw new ArgumentException("Both positions need at least their top token.");
        }

        if (candidatePosition.ProbeLogProbabilities.Length != basePosition.TopTokens.Length)
        {
            throw new ArgumentException(
                $"The candidate was probed at {candidatePosition.ProbeLogProbabilities.Length} tokens, not at the base's {basePosition.TopTokens.Length}.");
        }

        double kl = 0.0, baseMass = 0.0, candidateMass = 0.0;
        for (int i = 0; i < basePosition.TopTokens.Length; i++)
        {
            double logP = basePosition.TopLogProbabilities[i];
            double logQ = candidatePosition.ProbeLogProbabilities[i];
            double p = Math.Exp(logP);
            baseMass += p;
            candidateMass += Math.Exp(logQ);
            kl += p * (logP - logQ);
        }

        double baseRest = 1.0 - baseMass;
        if (baseRest > NegligibleMass)
        {
            // The candidate's rest can round to 0 when it put (almost) everything on the base's top-k.
            double candidateRest = Math.Max(1.0 - candidateMass, double.Epsilon);
            kl += baseRest * (Math.Log(baseRest) - Math.Log(candidateRest));
        }

        return new PositionDrift(
            Math.Max(0.0, kl),
            basePosition.TopTokens[0] == candidatePosition.TopTokens[0],
            Math.Exp(candidatePosition.NextTokenLogProbability) - Math.Exp(basePosition.NextTokenLogProbability));
    }

    /// <summary>Every position of one text, in order.</summary>
    /// <exception cref="ArgumentException">The traces cover different tokens: the models do not share a tokenizer.</exception>
    public static ImmutableArray<PositionDrift> Measure(DistributionTrace baseTrace, DistributionTrace candidateTrace)
    {
        ArgumentNullException.ThrowIfNull(baseTrace);
        ArgumentNullException.ThrowIfNull(candidateTrace);
        if (!baseTrace.Tokens.SequenceEqual(candidateTrace.Tokens))
        {
            throw new ArgumentException(
                $"The two models tokenize the same text differently ({baseTrace.Tokens.Length} vs {candidateTrace.Tokens.Length} tokens); drift needs a shared vocabulary.");
        }

        var drifts = ImmutableArray.CreateBuilder<PositionDrift>(baseTrace.Positions.Length);
        for (int i = 0; i < baseTrace.Positions.Length; i++)
        {
            drifts.Add(Measure(baseTrace.Positions[i], candidateTrace.Positions[i]));
        }

        return drifts.MoveToImmutable();
    }

    /// <summary>The probe list a candidate needs: the base's top-k tokens at every position.</summary>
    public static ImmutableArray<ImmutableArray<int>> ProbesFor(DistributionTrace baseTrace)
    {
        ArgumentNullException.ThrowIfNull(baseTrace);
        return [.. baseTrace.Positions.Select(p => p.TopTokens)];
    }
}
