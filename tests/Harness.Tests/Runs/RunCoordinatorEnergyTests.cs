using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Tests.Fakes;

namespace Harness.Tests.Runs;

public sealed class RunCoordinatorEnergyTests
{
    private static readonly EnergyChannel Package = new("package-0", EnergyDomain.Package);

    private static readonly PowerState Cool = new(PowerSource.Ac, null, "performance", ThrottleEvents: 10, "no zone over a passive trip point");
    private static readonly PowerState Hot = new(PowerSource.Ac, null, "performance", ThrottleEvents: 13, "x86_pkg_temp 95 C over passive trip 90 C");

    private static string Adder(RenderedPrompt prompt)
    {
        var parts = prompt.PlainText.TrimEnd('=').Split('+').Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return (parts[0] + parts[1]).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class Meters(params IEnergyMeter[] meters) : IEnergyMeterSelection
    {
        public IReadOnlyList<IEnergyMeter> MetersFor(ModelEntry model, IModelSession session) => meters;
    }

    private static EnergyOptions Options(IEnergyMeter meter, IPowerStateProbe power, TimeSpan baseline) =>
        new(new Meters(meter), power, TimeSpan.FromHours(1), baseline);

    [Fact]
    public async Task Every_item_record_carries_its_energy_and_the_model_record_the_baseline_and_power_state()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [12], AdvancePerRead = TimeSpan.FromMilliseconds(250) };
        var store = new InMemoryRunStore();
        var coordinator = new RunCoordinator(new FakeBackend(Adder), store, clock, Options(meter, new FakePowerProbe(Cool, Hot), TimeSpan.FromMilliseconds(1)));

        await coordinator.RunAsync([TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(4))], null, CancellationToken.None);

        Assert.Equal(4, store.Items.Count);
        Assert.All(store.Items, item =>
        {
            var energy = Assert.IsType<EnergyReading>(item.Energy);
            Assert.Equal("fake", energy.Source);
            Assert.Equal(EnergyQuality.Measured, energy.Quality);
            Assert.Equal(EnergyAttribution.Exclusive, energy.Attribution);
            // Every read moves the clock 250 ms at a constant 12 W: gross 3 J, and the idle baseline (also 12 W)
            // takes all of it back, so the work added nothing.
            Assert.Equal(3, energy.GrossJoules, 9);
            Assert.Equal(12, energy.BaselineWatts!.Value, 9);
            Assert.Equal(0, energy.NetJoules!.Value, 9);
        });
        var facts = Assert.IsType<ModelEnergy>(store.ModelHistory[^1].Energy);
        Assert.Equal(ModelRunStatus.Completed, store.ModelHistory[^1].Status);
        Assert.Equal("fake", facts.Source);
        Assert.Equal(12, facts.IdleBaseline!.GrossJoules / facts.IdleBaseline.Window.TotalSeconds, 9);
        Assert.Equal(Cool, facts.PowerAtStart);
        Assert.Equal(Hot, facts.PowerAtEnd);
        Assert.Equal(3, facts.ThrottleEventsDuringRun);
        Assert.Null(facts.Failure);
        Assert.Equal(0, meter.OpenCounters);
    }

    [Fact]
    public async Task A_meter_that_cannot_open_costs_the_energy_figures_but_no_item()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Usable = false };
        var store = new InMemoryRunStore();
        var coordinator = new RunCoordinator(new FakeBackend(Adder), store, clock, Options(meter, new FakePowerProbe(Cool), TimeSpan.Zero));

        var outcomes = await coordinator.RunAsync([TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(3))], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Completed, Assert.Single(outcomes).Status);
        Assert.Equal(3, store.Items.Count);
        Assert.All(store.Items, item => Assert.Null(item.Energy));
        var facts = Assert.IsType<ModelEnergy>(store.ModelHistory[^1].Energy);
        Assert.Contains("switched off", facts.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_meter_that_stops_part_way_leaves_later_items_without_energy_and_records_why()
    {
        var clock = new ManualClock();
        // Reads: 1 at open, 2 for the (zero) baseline skipped, then 2 per item: items 1 and 2 read, item 3 fails.
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [5], AdvancePerRead = TimeSpan.FromMilliseconds(100), FailAfterReads = 5 };
        var store = new InMemoryRunStore();
        var coordinator = new RunCoordinator(new FakeBackend(Adder), store, clock, Options(meter, new FakePowerProbe(Cool), TimeSpan.Zero));

        await coordinator.RunAsync([TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(4))], null, CancellationToken.None);

        Assert.Equal(4, store.Items.Count);
        Assert.NotNull(store.Items[0].Energy);
        Assert.NotNull(store.Items[1].Energy);
        Assert.Null(store.Items[2].Energy);
        Assert.Null(store.Items[3].Energy);
        Assert.Contains("device gone", store.ModelHistory[^1].Energy!.Failure, StringComparison.Ordinal);
    }
}
