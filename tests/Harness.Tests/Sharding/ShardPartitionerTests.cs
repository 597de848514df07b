using System.Collections.Immutable;
using Harness.Core.Serialization;
using Harness.Core.Sharding;
using Harness.Tests.Serialization;

namespace Harness.Tests.Sharding;

/// <summary>
/// The partition's promises, checked on hand-made plans and on many seeded random ones.
/// </summary>
/// <remarks>
/// The balance bound proved here: lay the work end to end on the cost line and let <c>P(s)</c> be the cumulative cost
/// of shards 0..s and <c>T(s) = total x (s + 1) / N</c> the ideal cut. With no whole or grouped unit, every cut
/// satisfies <c>|P(s) - T(s)| &lt;= c/2</c>, where <c>c</c> is the largest cost of one item of any unit with items, so
/// every shard's cost is within <c>c</c> of <c>total / N</c> (the errors of its two cuts add). With whole units (and
/// groups) a cut can move by a whole block as well: <c>|P(s) - T(s)| &lt;= c/2 + W</c>, <c>W</c> the largest whole
/// block's cost.
/// </remarks>
public sealed class ShardPartitionerTests
{
    private const double GiB = 1024.0 * 1024 * 1024;

    [Fact]
    public void Every_item_is_assigned_exactly_once_over_many_random_plans()
    {
        for (var seed = 1; seed <= 400; seed++)
        {
            var random = new Random(seed);
            var units = RandomPlan(random, wholeShare: 0.15, groupShare: 0.1, zeroCostShare: 0.05);
            var shardCount = random.Next(1, 13);

            var shards = ShardPartitioner.Partition(units, shardCount, FakeResources);

            AssertCoversEveryItemOnce(units, shards, $"seed {seed}, N = {shardCount}");
            AssertWholeAndGroupsUncut(units, shards, $"seed {seed}, N = {shardCount}");
            AssertCostsAndResources(units, shards, $"seed {seed}, N = {shardCount}");
        }
    }

    [Fact]
    public void Every_shard_count_from_1_to_12_covers_the_same_random_plans()
    {
        for (var seed = 1000; seed < 1060; seed++)
        {
            var units = RandomPlan(new Random(seed), wholeShare: 0.2, groupShare: 0.15, zeroCostShare: 0.05);
            for (var n = 1; n <= 12; n++)
            {
                var shards = ShardPartitioner.Partition(units, n, FakeResources);

                Assert.Equal(n, shards.Length);
                AssertCoversEveryItemOnce(units, shards, $"seed {seed}, N = {n}");
                AssertWholeAndGroupsUncut(units, shards, $"seed {seed}, N = {n}");
                AssertCostsAndResources(units, shards, $"seed {seed}, N = {n}");
            }
        }
    }

    [Fact]
    public void Without_whole_units_every_cut_is_within_half_an_item_and_every_shard_within_one_item_of_the_ideal()
    {
        var checkedShards = 0;
        for (var seed = 1; seed <= 400; seed++)
        {
            var random = new Random(seed);
            var units = RandomPlan(random, wholeShare: 0, groupShare: 0, zeroCostShare: seed % 5 == 0 ? 0.2 : 0);
            var shardCount = random.Next(1, 13);

            var shards = ShardPartitioner.Partition(units, shardCount, FakeResources);

            var total = units.Sum(u => u.Cost);
            var maxItem = units.Where(u => u.ItemCount > 0).Select(u => u.CostPerItem).DefaultIfEmpty(0).Max();
            var tolerance = 1e-9 * Math.Max(total, 1);
            var cumulative = 0.0;
            for (var s = 0; s < shardCount; s++)
            {
                var ideal = total / shardCount;
                Assert.True(
                    Math.Abs(shards[s].ExpectedCost - ideal) <= maxItem + tolerance,
                    $"seed {seed}, N = {shardCount}: shard {s} costs {shards[s].ExpectedCost}, ideal {ideal}, largest item {maxItem}");

                cumulative += shards[s].ExpectedCost;
                var cut = total * (s + 1) / shardCount;
                Assert.True(
                    Math.Abs(cumulative - cut) <= (maxItem / 2) + tolerance,
                    $"seed {seed}, N = {shardCount}: cut after shard {s} at {cumulative}, ideal {cut}, largest item {maxItem}");
                checkedShards++;
            }
        }

        Assert.True(checkedShards > 2000, $"only {checkedShards} shards checked");
    }

    [Fact]
    public void With_whole_units_every_cut_is_within_half_an_item_plus_the_largest_whole_block()
    {
        for (var seed = 1; seed <= 400; seed++)
        {
            var random = new Random(seed);
            var units = RandomPlan(random, wholeShare: 0.25, groupShare: 0.15, zeroCostShare: 0.05);
            var shardCount = random.Next(1, 13);

            var shards = ShardPartitioner.Partition(units, shardCount, FakeResources);

            var total = units.Sum(u => u.Cost);
            var maxItem = units.Where(u => u.ItemCount > 0).Select(u => u.CostPerItem).DefaultIfEmpty(0).Max();
            var grouped = units.Where(u => u.Group is not null).GroupBy(u => u.Group).Select(g => g.Sum(u => u.Cost));
            var maxWhole = units.Where(u => u.Whole is not null && u.Group is null).Select(u => u.Cost).Concat(grouped).DefaultIfEmpty(0).Max();
            var cumulative = 0.0;
            for (var s = 0; s < shardCount; s++)
            {
                cumulative += shards[s].ExpectedCost;
                var cut = total * (s + 1) / shardCount;
                Assert.True(
                    Math.Abs(cumulative - cut) <= (maxItem / 2) + maxWhole + (1e-9 * Math.Max(total, 1)),
                    $"seed {seed}, N = {shardCount}: cut after shard {s} at {cumulative}, ideal {cut}, item {maxItem}, whole {maxWhole}");
            }
        }
    }

    [Fact]
    public void The_same_input_gives_the_same_shards_whatever_the_culture_names_or_instances()
    {
        for (var seed = 1; seed <= 100; seed++)
        {
            var random = new Random(seed);
            var units = RandomPlan(random, wholeShare: 0.15, groupShare: 0.1, zeroCostShare: 0.05);
            var shardCount = random.Next(1, 13);

            var first = HarnessJson.Serialize(ShardPartitioner.Partition(units, shardCount, FakeResources));
            var copy = units.Select(u => u with { }).ToList();
            string again;
            using (new CultureScope("de-DE"))
            {
                again = HarnessJson.Serialize(ShardPartitioner.Partition(copy, shardCount, FakeResources));
            }

            Assert.Equal(first, again);

            // Only the order, counts and costs decide the cuts: renaming every model and suite moves nothing.
            var renamed = units.Select(u => u with { ModelId = "m-" + u.ModelId, Suite = "s-" + u.Suite, Group = u.Group is null ? null : "g-" + u.Group }).ToList();
            var original = ShardPartitioner.Partition(units, shardCount, FakeResources);
            var moved = ShardPartitioner.Partition(renamed, shardCount, FakeResources);
            Assert.Equal(
                original.Select(s => s.Work.Select(w => ("m-" + w.ModelId, "s-" + w.Suite, w.FirstItem, w.ItemCount)).ToList()),
                moved.Select(s => s.Work.Select(w => (w.ModelId, w.Suite, w.FirstItem, w.ItemCount)).ToList()));
        }
    }

    [Fact]
    public void Shards_are_consecutive_stretches_of_the_plan_in_plan_order()
    {
        for (var seed = 1; seed <= 300; seed++)
        {
            var random = new Random(seed);
            var units = RandomPlan(random, wholeShare: 0.2, groupShare: 0, zeroCostShare: 0.05);
            var shardCount = random.Next(1, 13);

            var shards = ShardPartitioner.Partition(units, shardCount, FakeResources);

            // Read shard after shard, the work is the plan itself: each unit's ranges in item order, units in plan order.
            var expected = units.Where(u => u.ItemCount > 0).Select(u => (u.ModelId, u.Suite)).ToList();
            var seen = new List<(string, string)>();
            var next = 0;
            foreach (var work in shards.SelectMany(s => s.Work))
            {
                if (seen.Count == 0 || seen[^1] != (work.ModelId, work.Suite))
                {
                    seen.Add((work.ModelId, work.Suite));
                    next = 0;
                }

                Assert.Equal(next, work.FirstItem);
                next += work.ItemCount;
            }

            Assert.Equal(expected, seen);
        }
    }

    [Fact]
    public void Models_are_loaded_at_most_models_plus_shards_minus_one_times()
    {
        for (var seed = 1; seed <= 400; seed++)
        {
            var random = new Random(seed);
            var units = RandomPlan(random, wholeShare: seed % 2 == 0 ? 0.2 : 0, groupShare: 0, zeroCostShare: 0.05);
            var shardCount = random.Next(1, 13);

            var shards = ShardPartitioner.Partition(units, shardCount, FakeResources);

            var models = units.Where(u => u.ItemCount > 0).Select(u => u.ModelId).Distinct().Count();
            var nonEmpty = shards.Count(s => !s.Work.IsEmpty);
            var loads = shards.Sum(s => s.ModelIds.Length);
            Assert.True(loads <= models + nonEmpty - 1 || models == 0, $"seed {seed}, N = {shardCount}: {loads} loads of {models} models in {nonEmpty} shards");
            Assert.True(loads <= models + shardCount - 1 || models == 0);

            // A model's shards are consecutive: it is loaded by a run of neighbouring shards, never twice apart.
            foreach (var model in units.Select(u => u.ModelId).Distinct())
            {
                var holding = shards.Where(s => !s.Work.IsEmpty).Select((s, i) => (s, i)).Where(x => x.s.ModelIds.Contains(model)).Select(x => x.i).ToList();
                Assert.True(holding.Count == 0 || holding[^1] - holding[0] + 1 == holding.Count, $"seed {seed}: {model} in shards {string.Join(",", holding)}");
            }
        }
    }

    [Fact]
    public void Three_models_of_equal_cost_over_three_shards_give_one_model_per_shard()
    {
        // Equal cost, unequal shapes: A's 100 items in two suites, B's 50 items at twice the size, C's four suites.
        ShardUnit[] units =
        [
            new("a", "arith", 30, 1 * GiB), new("a", "dates", 70, 1 * GiB),
            new("b", "arith", 50, 2 * GiB),
            new("c", "arith", 25, 1 * GiB), new("c", "dates", 25, 1 * GiB), new("c", "logic", 25, 1 * GiB), new("c", "units", 25, 1 * GiB),
        ];

        var shards = ShardPartitioner.Partition(units, 3, FakeResources);

        Assert.Equal(["a"], shards[0].ModelIds.ToArray());
        Assert.Equal(["b"], shards[1].ModelIds.ToArray());
        Assert.Equal(["c"], shards[2].ModelIds.ToArray());
        Assert.All(shards, s => Assert.Equal(100 * GiB, s.ExpectedCost));
        Assert.All(shards.SelectMany(s => s.Work), w => Assert.Equal(0, w.FirstItem));
    }

    [Theory]
    [InlineData(100, new[] { 25, 25, 25, 25 })]
    [InlineData(10, new[] { 3, 2, 3, 2 })]
    [InlineData(7, new[] { 2, 2, 1, 2 })]
    public void One_model_over_four_shards_gives_four_contiguous_ranges_in_order(int items, int[] sizes)
    {
        var shards = ShardPartitioner.Partition([new ShardUnit("only", "arith", items, 3 * GiB)], 4, FakeResources);

        var first = 0;
        for (var s = 0; s < 4; s++)
        {
            var work = Assert.Single(shards[s].Work);
            Assert.Equal(new ShardWork("only", "arith", first, sizes[s]), work);
            Assert.Equal(["only"], shards[s].ModelIds.ToArray());
            first += sizes[s];
        }

        Assert.Equal(items, first);
    }

    [Fact]
    public void A_whole_unit_is_never_cut_and_goes_where_most_of_it_falls()
    {
        // Cost line 0..5 (a), 5..13 (the stream), 13..20 (b); the ideal cut at 10 lies before the stream's middle (9),
        // so the stream stays in shard 0.
        ShardUnit[] units =
        [
            new("a", "arith", 5, 1),
            new("a", "stream", 8, 1, Whole: "sequential verdict"),
            new("b", "arith", 7, 1),
        ];

        var shards = ShardPartitioner.Partition(units, 2, FakeResources);

        Assert.Equal([new ShardWork("a", "arith", 0, 5), new ShardWork("a", "stream", 0, 8, "sequential verdict")], shards[0].Work.ToArray());
        Assert.Equal([new ShardWork("b", "arith", 0, 7)], shards[1].Work.ToArray());

        // With 8 items of a first the ideal cut (11.5) lies before the stream's middle (12): it moves to shard 1 whole.
        var later = ShardPartitioner.Partition([units[0] with { ItemCount = 8 }, units[1], units[2]], 2, FakeResources);
        Assert.Equal([new ShardWork("a", "arith", 0, 8)], later[0].Work.ToArray());
        Assert.Equal(new ShardWork("a", "stream", 0, 8, "sequential verdict"), later[1].Work[0]);
    }

    [Fact]
    public void A_whole_unit_larger_than_many_shards_stays_whole_and_the_later_cuts_keep_their_places()
    {
        ShardUnit[] units =
        [
            new("a", "stream", 60, 1, Whole: "sequential verdict"),
            new("b", "arith", 40, 1),
        ];

        var shards = ShardPartitioner.Partition(units, 10, FakeResources);

        Assert.Equal([new ShardWork("a", "stream", 0, 60, "sequential verdict")], shards[0].Work.ToArray());
        Assert.All(shards.Skip(1).Take(5), s => Assert.Empty(s.Work));
        Assert.Equal([10.0, 10, 10, 10], shards.Skip(6).Select(s => s.ExpectedCost));
    }

    [Fact]
    public void Units_of_one_group_land_in_one_shard_together_whole()
    {
        // A pairwise-judged suite spread over three models: the group moves to the place of its first unit.
        ShardUnit[] units =
        [
            new("a", "arith", 40, 1), new("a", "pairs", 10, 1, Group: "pairwise:pairs"),
            new("b", "arith", 40, 1), new("b", "pairs", 10, 1, Group: "pairwise:pairs"),
            new("c", "arith", 40, 1), new("c", "pairs", 10, 1, Whole: "judged pairwise", Group: "pairwise:pairs"),
        ];

        for (var n = 1; n <= 12; n++)
        {
            var shards = ShardPartitioner.Partition(units, n, FakeResources);

            var holding = shards.Where(s => s.Work.Any(w => w.Suite == "pairs")).ToList();
            var shard = Assert.Single(holding);
            var pairs = shard.Work.Where(w => w.Suite == "pairs").ToList();
            Assert.Equal(["a", "b", "c"], pairs.Select(w => w.ModelId));
            Assert.All(pairs, w => Assert.Equal((0, 10, "group 'pairwise:pairs'"), (w.FirstItem, w.ItemCount, w.Whole)));
            AssertCoversEveryItemOnce(units, shards, $"N = {n}");
        }
    }

    [Fact]
    public void More_shards_than_work_leaves_empty_shards_and_loses_nothing()
    {
        ShardUnit[] units = [new("a", "arith", 1, 5), new("b", "arith", 2, 5, Whole: "sequential verdict")];
        var calls = new List<string[]>();

        var shards = ShardPartitioner.Partition(units, 9, ids =>
        {
            calls.Add([.. ids]);
            return new ShardResources(Math.Max(1, ids.Count), ids.Count);
        });

        Assert.Equal(9, shards.Length);
        Assert.Equal(Enumerable.Range(0, 9), shards.Select(s => s.Index));
        Assert.Equal(7, shards.Count(s => s.Work.IsEmpty));
        Assert.All(shards.Where(s => s.Work.IsEmpty), s => Assert.Equal((0.0, 0, new ShardResources(1, 0)), (s.ExpectedCost, s.ItemCount, s.Resources)));
        Assert.Equal(3, shards.Sum(s => s.ItemCount));
        Assert.Equal(9, calls.Count);
        AssertCoversEveryItemOnce(units, shards, "N = 9");
    }

    [Fact]
    public void One_shard_holds_everything_in_plan_order()
    {
        for (var seed = 1; seed <= 50; seed++)
        {
            var units = RandomPlan(new Random(seed), wholeShare: 0.2, groupShare: 0, zeroCostShare: 0.1);

            var shard = Assert.Single(ShardPartitioner.Partition(units, 1, FakeResources));

            Assert.Equal(0, shard.Index);
            Assert.Equal(
                units.Where(u => u.ItemCount > 0).Select(u => new ShardWork(u.ModelId, u.Suite, 0, u.ItemCount, u.Whole)),
                shard.Work);
            Assert.Equal(units.Sum(u => u.ItemCount), shard.ItemCount);
        }
    }

    [Fact]
    public void Zero_cost_units_and_a_plan_without_items_do_not_divide_by_zero()
    {
        ShardUnit[] free = [new("a", "arith", 10, 0), new("b", "arith", 5, 0, Whole: "sequential verdict"), new("c", "arith", 3, 0)];
        ShardUnit[] mixed = [new("a", "arith", 10, 0), new("b", "arith", 20, 2), new("c", "arith", 10, 0), new("d", "arith", 20, 2)];
        ShardUnit[] noItems = [new("a", "arith", 0, 1e9), new("b", "stream", 0, 0, Whole: "sequential verdict"), new("c", "pairs", 0, 3, Group: "g")];

        foreach (var (units, name) in new[] { (free, "free"), (mixed, "mixed"), (noItems, "no items"), (Array.Empty<ShardUnit>(), "no units") })
        {
            for (var n = 1; n <= 6; n++)
            {
                var shards = ShardPartitioner.Partition(units, n, FakeResources);

                Assert.Equal(n, shards.Length);
                Assert.All(shards, s => Assert.True(double.IsFinite(s.ExpectedCost), $"{name}, N = {n}: cost {s.ExpectedCost}"));
                AssertCoversEveryItemOnce(units, shards, $"{name}, N = {n}");
            }
        }

        Assert.All(ShardPartitioner.Partition(noItems, 4, FakeResources), s => Assert.Equal((0, 0.0), (s.Work.Length, s.ExpectedCost)));
        var balanced = ShardPartitioner.Partition(mixed, 2, FakeResources);
        Assert.Equal([40.0, 40.0], balanced.Select(s => s.ExpectedCost));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_shard_count_below_one_is_refused(int shardCount)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPartitioner.Partition([new ShardUnit("a", "arith", 3, 1)], shardCount, FakeResources));
    }

    [Theory]
    [InlineData(-1, 1.0)]
    [InlineData(int.MinValue, 1.0)]
    [InlineData(3, double.NaN)]
    [InlineData(3, -1.0)]
    [InlineData(3, -double.Epsilon)]
    [InlineData(3, double.PositiveInfinity)]
    [InlineData(3, double.NegativeInfinity)]
    [InlineData(0, double.NaN)]
    public void Negative_items_and_costs_that_are_not_finite_and_at_least_zero_are_refused(int items, double costPerItem)
    {
        ShardUnit[] units = [new("a", "arith", 3, 1), new("b", "dates", items, costPerItem)];

        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPartitioner.Partition(units, 2, FakeResources));
    }

    [Fact]
    public void A_total_cost_too_large_for_a_double_is_refused_instead_of_written_as_infinity()
    {
        ShardUnit[] units = [new("a", "arith", 1000, double.MaxValue / 10)];

        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPartitioner.Partition(units, 2, FakeResources));
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => ShardPartitioner.Partition(null!, 2, FakeResources));
        Assert.Throws<ArgumentNullException>(() => ShardPartitioner.Partition([], 2, null!));
    }

    [Fact]
    public void Resources_come_from_the_callback_for_exactly_the_shards_models_in_load_order()
    {
        ShardUnit[] units =
        [
            new("small", "arith", 10, 1), new("small", "dates", 10, 1),
            new("large", "arith", 10, 4),
            new("medium", "arith", 30, 2), new("medium", "dates", 10, 2),
        ];
        var calls = new List<string[]>();

        var shards = ShardPartitioner.Partition(units, 3, ids =>
        {
            calls.Add([.. ids]);
            return new ShardResources(ids.Count, (long)ids.Sum(id => id.Length));
        });

        Assert.Equal(shards.Select(s => s.ModelIds.ToArray()), calls);
        Assert.All(shards, s => Assert.Equal(new ShardResources(s.ModelIds.Length, s.ModelIds.Sum(id => id.Length)), s.Resources));
        Assert.Contains(shards, s => s.ModelIds.Length > 1);
    }

    // A plan as the CLI builds it: model by model, each model's suites in order. Suites have one item count (every
    // model answers the same items); a whole suite is whole for every model; a grouped suite groups every model's unit.
    private static List<ShardUnit> RandomPlan(Random random, double wholeShare, double groupShare, double zeroCostShare)
    {
        var modelCount = random.Next(1, 7);
        var suiteCount = random.Next(1, 6);
        var suites = Enumerable.Range(0, suiteCount).Select(i =>
        {
            var items = random.Next(10) switch
            {
                0 => 0,
                1 => random.Next(1, 4),
                _ => random.Next(0, 501),
            };
            var kind = random.NextDouble();
            string? whole = kind < wholeShare ? "sequential verdict" : null;
            string? group = kind >= wholeShare && kind < wholeShare + groupShare ? $"pairwise:s{i}" : null;
            return (Name: $"s{i}", Items: items, Whole: whole, Group: group);
        }).ToList();

        var units = new List<ShardUnit>();
        for (var m = 0; m < modelCount; m++)
        {
            var costPerItem = random.NextDouble() < zeroCostShare
                ? 0
                : random.Next(3) switch
                {
                    0 => random.Next(1, 10),
                    1 => Math.Round(random.NextDouble() * 8 * GiB),
                    _ => random.NextDouble() * 100,
                };
            foreach (var suite in suites)
            {
                // Now and then a model answers fewer items of a suite (a resumed plan, a filtered suite).
                var items = random.Next(8) == 0 ? random.Next(0, suite.Items + 1) : suite.Items;
                units.Add(new ShardUnit($"m{m}", suite.Name, items, costPerItem, suite.Whole, suite.Group));
            }
        }

        return units;
    }

    private static ShardResources FakeResources(IReadOnlyCollection<string> ids) =>
        new(Math.Max(1, ids.Count), ids.Sum(id => (long)id.Length) + ids.Count);

    private static void AssertCoversEveryItemOnce(IReadOnlyList<ShardUnit> units, ImmutableArray<Shard> shards, string context)
    {
        Assert.Equal(Enumerable.Range(0, shards.Length), shards.Select(s => s.Index));
        var expected = units.Where(u => u.ItemCount > 0).ToDictionary(u => (u.ModelId, u.Suite), u => u.ItemCount);
        var ranges = new Dictionary<(string, string), List<(int First, int Count)>>();
        foreach (var work in shards.SelectMany(s => s.Work))
        {
            Assert.True(work.ItemCount >= 1, $"{context}: empty range {work}");
            Assert.True(work.FirstItem >= 0, $"{context}: {work}");
            Assert.True(expected.TryGetValue((work.ModelId, work.Suite), out var count), $"{context}: {work} is not in the plan");
            Assert.True(work.FirstItem + work.ItemCount <= count, $"{context}: {work} runs past the {count} items");
            if (!ranges.TryGetValue((work.ModelId, work.Suite), out var list))
            {
                ranges[(work.ModelId, work.Suite)] = list = [];
            }

            list.Add((work.FirstItem, work.ItemCount));
        }

        Assert.Equal(expected.Keys.Order().ToList(), ranges.Keys.Order().ToList());
        foreach (var (key, list) in ranges)
        {
            // Sorted by first item, the ranges tile 0..count: no gap, no overlap.
            var next = 0;
            foreach (var (first, itemCount) in list.OrderBy(r => r.First))
            {
                Assert.True(first == next, $"{context}: {key} has a gap or overlap at item {next} (a range starts at {first})");
                next += itemCount;
            }

            Assert.True(next == expected[key], $"{context}: {key} covers {next} of {expected[key]} items");
        }

        Assert.Equal(units.Sum(u => u.ItemCount), shards.Sum(s => s.ItemCount));
    }

    private static void AssertWholeAndGroupsUncut(IReadOnlyList<ShardUnit> units, ImmutableArray<Shard> shards, string context)
    {
        foreach (var unit in units.Where(u => u.ItemCount > 0 && (u.Whole is not null || u.Group is not null)))
        {
            var pieces = shards.SelectMany(s => s.Work.Select(w => (Shard: s.Index, Work: w)))
                .Where(x => x.Work.ModelId == unit.ModelId && x.Work.Suite == unit.Suite)
                .ToList();
            var piece = Assert.Single(pieces);
            Assert.Equal(0, piece.Work.FirstItem);
            Assert.Equal(unit.ItemCount, piece.Work.ItemCount);
            Assert.False(string.IsNullOrEmpty(piece.Work.Whole), $"{context}: {piece.Work} has no reason to be whole");
            if (unit.Group is null)
            {
                Assert.Equal(unit.Whole, piece.Work.Whole);
            }
        }

        foreach (var group in units.Where(u => u.ItemCount > 0 && u.Group is not null).GroupBy(u => u.Group))
        {
            var holding = shards.Where(s => s.Work.Any(w => group.Any(u => u.ModelId == w.ModelId && u.Suite == w.Suite))).ToList();
            Assert.True(holding.Count == 1, $"{context}: group {group.Key} is in shards {string.Join(",", holding.Select(s => s.Index))}");
        }

        foreach (var work in shards.SelectMany(s => s.Work).Where(w => w.Whole is null))
        {
            var unit = units.Single(u => u.ModelId == work.ModelId && u.Suite == work.Suite);
            Assert.True(unit.Whole is null && unit.Group is null, $"{context}: {work} lost its reason to be whole");
        }
    }

    private static void AssertCostsAndResources(IReadOnlyList<ShardUnit> units, ImmutableArray<Shard> shards, string context)
    {
        var cost = units.ToDictionary(u => (u.ModelId, u.Suite), u => u.CostPerItem);
        foreach (var shard in shards)
        {
            var sum = shard.Work.Sum(w => w.ItemCount * cost[(w.ModelId, w.Suite)]);
            Assert.True(Math.Abs(sum - shard.ExpectedCost) <= 1e-12 * Math.Max(1, sum), $"{context}: shard {shard.Index} says {shard.ExpectedCost}, its work costs {sum}");
            Assert.Equal(shard.Work.Select(w => w.ModelId).Distinct(), shard.ModelIds);
            Assert.Equal(FakeResources(shard.ModelIds), shard.Resources);
        }
    }
}
