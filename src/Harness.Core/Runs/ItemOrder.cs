using System.Collections.Immutable;
using System.Text;
using Harness.Core.Suites;

namespace Harness.Core.Runs;

/// <summary>
/// The random order a sequential suite's items are evaluated in, fixed by the run's recorded seed and the suite's name,
/// so a resume and a report rebuilt later see the same order. A sequential verdict is valid only for an order chosen
/// before any item is seen; a fixed file order could put all easy items first.
/// </summary>
public static class ItemOrder
{
    /// <summary>
    /// The suite's item ids shuffled (Fisher–Yates) by SplitMix64 seeded from <paramref name="orderSeed"/> and the suite's
    /// name. Implemented here rather than with <see cref="Random"/> so the order is the same on every .NET version.
    /// </summary>
    public static ImmutableArray<string> Shuffle(Suite suite, int orderSeed)
    {
        ArgumentNullException.ThrowIfNull(suite);
        return Shuffle([.. suite.Items.Select(i => i.Id)], suite.Name, orderSeed);
    }

    /// <summary>Item ids shuffled as <see cref="Shuffle(Suite, int)"/> does.</summary>
    public static ImmutableArray<string> Shuffle(ImmutableArray<string> itemIds, string suiteName, int orderSeed)
    {
        ArgumentNullException.ThrowIfNull(suiteName);
        var order = itemIds.ToArray();
        ulong state = Mix((ulong)(uint)orderSeed ^ Fnv1a(suiteName));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(Next(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }

        return [.. order];
    }

    // FNV-1a over UTF-8: a stable hash of the suite name (string.GetHashCode is randomised per process).
    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    private static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
