using System.Globalization;
using Harness.Core.Backends;
using Harness.Core.Contention;
using Harness.Core.Runs;
using Harness.Tests.Fakes;

namespace Harness.Tests.Contention;

public sealed class RunCoordinatorContentionTests
{
    private static string Adder(RenderedPrompt prompt)
    {
        var parts = prompt.PlainText.TrimEnd('=').Split('+').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return (parts[0] + parts[1]).ToString(CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task The_model_record_carries_the_contention_over_its_items()
    {
        var probe = new FakeContentionProbe(FakeContentionProbe.At(100, 50, 1, 0.25), FakeContentionProbe.At(140, 60, 3, 1.75));
        var store = new InMemoryRunStore();
        var coordinator = new RunCoordinator(
            new FakeBackend(Adder), store, new ManualClock(), contention: new ContentionOptions(probe, TimeSpan.FromHours(1)));

        await coordinator.RunAsync([TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(3))], null, CancellationToken.None);

        var last = store.ModelHistory[^1];
        Assert.Equal(ModelRunStatus.Completed, last.Status);
        var contention = Assert.IsType<ModelContention>(last.Contention);
        Assert.Equal("fake", contention.Source);
        Assert.Equal((0.25, 1.75), (contention.LoadAverage1mAtStart, contention.LoadAverage1mAtEnd));
        Assert.Equal(2.0 / 40, contention.StealShare!.Value, 9);
        // The fake backend runs in this process: its work is the harness's own, and there is no worker.
        Assert.InRange(contention.HarnessShare!.Value, 0, 1);
        Assert.InRange(contention.OtherProcessesShare!.Value, 0, 1);
        Assert.Null(contention.WorkerShare);
        Assert.Equal(2, probe.Reads);
    }

    [Fact]
    public async Task Without_contention_options_nothing_is_recorded()
    {
        var store = new InMemoryRunStore();

        await new RunCoordinator(new FakeBackend(Adder), store, new ManualClock())
            .RunAsync([TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(2))], null, CancellationToken.None);

        Assert.All(store.ModelHistory, m => Assert.Null(m.Contention));
    }
}
