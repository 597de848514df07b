using System.Collections.Immutable;

namespace Harness.Core.Sharding;

/// <summary>One (model, suite) of a plan, as the partition sees it.</summary>
/// <param name="CostPerItem">Expected cost of one item (the plan uses the model's file size in bytes).</param>
/// <param name="Whole">Why the unit must stay in one piece (a sequential verdict's stream); null: it may be cut between items.</param>
/// <param name="Group">Units with the same group go into one shard together, whole (a pairwise-judged suite: the judge
/// compares every model's answer to an item with another model's); null: no group.</param>
public sealed record ShardUnit(string ModelId, string Suite, int ItemCount, double CostPerItem, string? Whole = null, string? Group = null)
{
    public double Cost => ItemCount * CostPerItem;
}

/// <summary>
/// Cuts a plan's work into shards: deterministic (a pure function of the units in plan order and the shard count),
/// balanced by expected cost, and keeping a model's items together where it can.
/// </summary>
/// <remarks>
/// The units are laid end to end in plan order (model by model, each model's suites in order) on a line of cumulative
/// cost, and the line is cut at every multiple of total / N. A cut falls between two items, at most half an item's
/// cost from its ideal point, so with no whole unit every shard's cost is within the largest item cost of total / N
/// (its two cuts' errors add; the tests check this bound over random plans), and a model appears
/// in at most the shards its stretch of the line crosses: one load per shard unless a model's work is larger than a
/// shard (then it is spread over consecutive shards) or a cut falls between two models (then the shard finishes one
/// and starts the next). A unit that must stay whole (a sequential stream, a group) is never cut: it goes to the shard
/// where most of it falls, and the later cuts still aim at their ideal points, so one large whole unit does not shift
/// the rest of the plan. With more shards than there are pieces of work some shards are empty; they finish at once.
/// </remarks>
public static class ShardPartitioner
{
    /// <param name="units">Every (model, suite) with items, in plan order.</param>
    /// <param name="resources">What a node needs to run the given models one after the other.</param>
    public static ImmutableArray<Shard> Partition(
        IReadOnlyList<ShardUnit> units, int shardCount, Func<IReadOnlyCollection<string>, ShardResources> resources)
    {
        ArgumentNullException.ThrowIfNull(units);
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        foreach (var unit in units)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(unit.ItemCount);
            if (!(unit.CostPerItem >= 0) || double.IsInfinity(unit.CostPerItem))
            {
                throw new ArgumentOutOfRangeException(nameof(units), $"({unit.ModelId}, {unit.Suite}): cost per item must be a finite number at least 0");
            }
        }

        var blocks = Blocks(units);
        var total = blocks.Sum(b => b.Cost);

        // Finite costs can still overflow when multiplied by the items and summed: an infinite total would make every
        // cut infinite (all work in one shard) and write Infinity into plan.json.
        if (!double.IsFinite(total))
        {
            throw new ArgumentOutOfRangeException(nameof(units), "the plan's total cost (items x cost per item) is too large for a double; use a smaller unit of cost");
        }
        var work = Enumerable.Range(0, shardCount).Select(_ => new List<ShardWork>()).ToArray();
        var costs = new double[shardCount];
        var shard = 0;
        var placed = 0.0;
        double Target(int s) => total * (s + 1) / shardCount;

        foreach (var block in blocks)
        {
            if (block.Whole is not null || block.Units.Length > 1)
            {
                // Where most of the block falls: past the middle of the block lies the next shard's ideal stretch.
                while (shard < shardCount - 1 && work[shard].Count > 0 && placed + block.Cost / 2 > Target(shard))
                {
                    shard++;
                }

                foreach (var unit in block.Units.Where(u => u.ItemCount > 0))
                {
                    work[shard].Add(new ShardWork(unit.ModelId, unit.Suite, 0, unit.ItemCount, block.Whole));
                }

                costs[shard] += block.Cost;
                placed += block.Cost;
                while (shard < shardCount - 1 && placed >= Target(shard) - Epsilon(total))
                {
                    shard++;
                }

                continue;
            }

            var single = block.Units[0];
            var first = 0;
            var remaining = single.ItemCount;
            while (remaining > 0)
            {
                var take = remaining;
                if (shard < shardCount - 1)
                {
                    take = single.CostPerItem > 0
                        ? (int)Math.Clamp(Math.Round((Target(shard) - placed) / single.CostPerItem, MidpointRounding.AwayFromZero), 0, remaining)
                        : remaining;
                }

                if (take > 0)
                {
                    work[shard].Add(new ShardWork(single.ModelId, single.Suite, first, take));
                    costs[shard] += take * single.CostPerItem;
                    placed += take * single.CostPerItem;
                    first += take;
                    remaining -= take;
                }

                // Full: either items are left over, or the shard reached its cut (within half an item).
                if (shard < shardCount - 1 && (remaining > 0 || placed >= Target(shard) - (single.CostPerItem / 2) - Epsilon(total)))
                {
                    shard++;
                }
            }
        }

        return [.. Enumerable.Range(0, shardCount).Select(s =>
        {
            var ids = work[s].Select(w => w.ModelId).Distinct(StringComparer.Ordinal).ToList();
            return new Shard(s, [.. work[s]], costs[s], resources(ids));
        })];
    }

    private static double Epsilon(double total) => total * 1e-12;

    private sealed record Block(ImmutableArray<ShardUnit> Units, string? Whole)
    {
        public double Cost => Units.Sum(u => u.Cost);
    }

    // Units of one group become one block at the place of the group's first unit; every other unit is its own block.
    private static List<Block> Blocks(IReadOnlyList<ShardUnit> units)
    {
        var blocks = new List<Block>();
        var groups = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var unit in units.Where(u => u.ItemCount > 0))
        {
            if (unit.Group is { } group)
            {
                if (groups.TryGetValue(group, out var at))
                {
                    blocks[at] = blocks[at] with { Units = blocks[at].Units.Add(unit) };
                    continue;
                }

                groups[group] = blocks.Count;
                blocks.Add(new Block([unit], unit.Whole ?? $"group '{group}'"));
                continue;
            }

            blocks.Add(new Block([unit], unit.Whole));
        }

        return blocks;
    }
}
