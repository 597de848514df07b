using System.Collections.Immutable;
namespace Harness.Core.Backends;

/// <summary>Token selection and log-probabilities over one copied logits row, shared by the local backends so that the same
/// logits give the same token and score in each. Pure; no native calls.</summary>
public static class LogitMath
{
    public static bool AllFinite(ReadOnlySpan<float> logits)
    {
        foreach (var value in logits)
        {
            if (!float.IsFinite(value))
                return false;
        }
        return true;
    }

    /// <summary>Index of the largest logit; ties go to the lowest id so greedy output never depends on order of equals.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        var bestValue = logits[0];
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > bestValue)
            {
                bestValue = logits[i];
                best = i;
            }
        }
        return best;
    }

    /// <summary>Draws from softmax(logits / temperature) with one <see cref="Random.NextDouble"/> call.</summary>
    /// <param name="weights">Scratch buffer at least as long as <paramref name="logits"/>.</param>
    public static int Sample(ReadOnlySpan<float> logits, double temperature, Random random, Span<double> weights)
    {
        var max = (double)logits[ArgMax(logits)];
        var total = 0.0;
        for (var i = 0; i < logits.Length; i++)
        {
            var w = Math.Exp((logits[i] - max) / temperature);
            weights[i] = w;
            total += w;
        }

        var target = random.NextDouble() * total;
        var cumulative = 0.0;
        for (var i = 0; i < logits.Length; i++)
        {
            cumulative += weights[i];
            if (target < cumulative)
                return i;
        }

        // Rounding can leave target a hair above the final sum; the last non-zero weight is the right pick then.
        for (var i = logits.Length - 1; i >= 0; i--)
        {
            if (weights[i] > 0)
                return i;
        }
        return ArgMax(logits);
    }

    /// <summary>log(sum(exp(logits))) computed in double around the maximum, so huge logits do not overflow.</summary>
    public static double LogSumExp(ReadOnlySpan<float> logits)
    {
        var max = (double)logits[ArgMax(logits)];
        var sum = 0.0;
        foreach (var value in logits)
            sum += Math.Exp(value - max);
        return max + Math.Log(sum);
    }

    /// <summary>log_softmax(logits)[token] and whether <paramref name="token"/> is the (lowest-id) argmax.</summary>
    public static (double LogProbability, bool IsGreedy) LogProbability(ReadOnlySpan<float> logits, int token) =>
        (logits[token] - LogSumExp(logits), ArgMax(logits) == token);

    /// <summary>
    /// Fills <paramref name="ids"/> with the ids of the largest logits, largest first, ties to the lower id (so [0] is
    /// <see cref="ArgMax"/>). One pass with a small sorted buffer: O(vocabulary × k) worst case, k is small.
    /// </summary>
    public static void TopK(ReadOnlySpan<float> logits, Span<int> ids)
    {
        var k = Math.Min(ids.Length, logits.Length);
        var filled = 0;
        for (var token = 0; token < logits.Length; token++)
        {
            var value = logits[token];
            if (filled == k && !(value > logits[ids[k - 1]]))
                continue;

            // Insertion from the end: strictly greater moves ahead, so equal logits keep the earlier (lower) id first.
            var at = filled < k ? filled++ : k - 1;
            while (at > 0 && value > logits[ids[at - 1]])
            {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = token;
        }
    }

    /// <summary>
    /// One traced position from its logits: the actual next token's log-probability, the top <paramref name="top"/>.Length
    /// tokens with theirs, and the probe tokens' (a candidate probed at the base's top-k). Both backends trace through
    /// this, so a drift figure never depends on which one computed it.
    /// </summary>
    /// <param name="top">Scratch for the top-k ids; its length is k.</param>
    /// <exception cref="BackendException">A probe token is outside the vocabulary.</exception>
    public static PositionDistribution Distribution(ReadOnlySpan<float> logits, int next, Span<int> top, ReadOnlySpan<int> probes, string modelId)
    {
        var logSum = LogSumExp(logits);
        TopK(logits, top);
        var probeLogProbabilities = new float[probes.Length];
        for (var p = 0; p < probes.Length; p++)
        {
            var id = probes[p];
            if ((uint)id >= (uint)logits.Length)
                throw new BackendException($"Model '{modelId}': probe token {id} is outside its vocabulary of {logits.Length}.");
            probeLogProbabilities[p] = (float)(logits[id] - logSum);
        }

        var topIds = top.ToArray();
        var topLogProbabilities = new float[topIds.Length];
        for (var t = 0; t < topIds.Length; t++)
            topLogProbabilities[t] = (float)(logits[topIds[t]] - logSum);
        return new PositionDistribution(
            next,
            (float)(logits[next] - logSum),
            ImmutableArray.Create(topIds),
            ImmutableArray.Create(topLogProbabilities),
            ImmutableArray.Create(probeLogProbabilities));
    }
}
