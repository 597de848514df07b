using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Runs;

namespace Harness.Core.Verdicts;

/// <summary>
/// How much of a (model, suite) the records cover, against the items the suite has. Every planned item is in exactly
/// one of the four counts.
/// </summary>
/// <param name="Total">Items the suite has (run.json's item count), or the records' count where that is larger or unknown.</param>
/// <param name="Evaluated">Scored: the model answered and every scorer ran.</param>
/// <param name="Failed">Failed through the model's own fault (<see cref="ItemFailureKinds.IsModelsFault"/>): counted as wrong answers.</param>
/// <param name="Errored">Failed for a reason that is not the model's answer (context overflow, scorer, backend): never an answer.</param>
/// <param name="Missing">Never recorded: the model crashed, the run was cancelled, or the item was not reached.</param>
/// <param name="Errors">The errored items grouped by failure kind, largest group first.</param>
public sealed record Coverage(int Total, int Evaluated, int Failed, int Errored, int Missing, ImmutableArray<ItemErrorGroup> Errors)
{
    /// <summary>Items that count as answers: scored, or failed through the model's fault.</summary>
    public int Answered => Evaluated + Failed;

    /// <summary>Every planned item is an answer: nothing errored, nothing missing.</summary>
    public bool IsComplete => Errored == 0 && Missing == 0;

    /// <summary>
    /// Counts <paramref name="items"/> (one record per item of one (model, suite)) against the suite's
    /// <paramref name="plannedItems"/>; null counts only what was recorded, so nothing is missing.
    /// </summary>
    public static Coverage Of(IReadOnlyCollection<ItemRecord> items, int? plannedItems)
    {
        ArgumentNullException.ThrowIfNull(items);
        int evaluated = items.Count(i => i.Status == ItemStatus.Scored);
        int failed = items.Count(i => i.Status != ItemStatus.Scored && ItemFailureKinds.IsModelsFault(i.Failure));
        var errored = items.Where(i => !IsAnswer(i)).ToArray();
        int total = Math.Max(plannedItems ?? 0, items.Count);
        ImmutableArray<ItemErrorGroup> errors = [.. errored
            .GroupBy(i => i.Failure!.Value)
            .Select(g =>
            {
                // The first item in id order, so the same records always give the same example.
                var first = g.OrderBy(i => i.Key.ItemId, StringComparer.Ordinal).First();
                return new ItemErrorGroup(g.Key, g.Count(), first.Key.ItemId, first.Error ?? "no reason recorded");
            })
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Kind)];
        return new Coverage(total, evaluated, failed, errored.Length, total - items.Count, errors);
    }

    /// <summary>True for a record that counts as an answer: scored, or failed through the model's fault.</summary>
    public static bool IsAnswer(ItemRecord item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return item.Status == ItemStatus.Scored || ItemFailureKinds.IsModelsFault(item.Failure);
    }

    /// <summary>"288 scored, 2 failed, 10 errored, 0 missing of 300", leaving out the zero counts after "scored".</summary>
    public string Describe()
    {
        var parts = new List<string> { Inv($"{Evaluated} scored") };
        if (Failed > 0)
        {
            parts.Add(Inv($"{Failed} failed"));
        }

        if (Errored > 0)
        {
            parts.Add(Inv($"{Errored} errored"));
        }

        if (Missing > 0)
        {
            parts.Add(Inv($"{Missing} missing"));
        }

        return string.Join(", ", parts) + Inv($" of {Total}");
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Items of one (model, suite) that failed for one reason that is not the model's answer.</summary>
/// <param name="ExampleItemId">The first such item in ordinal id order.</param>
/// <param name="ExampleError">That item's recorded error, e.g. "the prompt has 303 tokens but the context size is 256".</param>
public sealed record ItemErrorGroup(ItemFailureKind Kind, int Count, string ExampleItemId, string ExampleError);
