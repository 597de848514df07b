using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Benchmarks;

/// <summary>The committed repository: benchmarks read the shipped suites, never a model.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static PreparedSuite Suite(string name)
    {
        var suite = SuiteLoader.Load(Path.Combine(Root, "tasks", name));
        return new PreparedSuite(suite, [.. suite.Scorers.Select(spec => ScorerRegistry.Default.Create(spec, suite.Directory))]);
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harness.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Harness.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>A session that answers every item with its target at once: what is left is the harness's own cost per item.</summary>
public sealed class InstantSession(IReadOnlyDictionary<string, string> answers) : IModelSession
{
    private static readonly RequestTimings Timings = new(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(3));

    public ModelLoadInfo LoadInfo { get; } = new("instant", TimeSpan.Zero, 0, 0, "none",
        ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty);

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new GenerationResult(answers[request.Prompt.PlainText], FinishReason.StopSequence, request.Prompt.PlainText, 8, 4, Timings));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A store that keeps nothing, to separate the bookkeeping from the fsync of the real store.</summary>
public sealed class DiscardingStore : IRunStore
{
    public Task AppendItemAsync(ItemRecord record, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task RecordModelAsync(ModelRunRecord record, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlySet<ItemKey>> GetRecordedKeysAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<ItemKey>>(new HashSet<ItemKey>());

    public async IAsyncEnumerable<ItemRecord> ReadItemsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        yield break;
    }

    public Task<IReadOnlyList<ModelRunRecord>> ReadModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ModelRunRecord>>([]);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
