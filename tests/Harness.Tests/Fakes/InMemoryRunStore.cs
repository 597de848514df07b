using Harness.Core.Comparison;
using Harness.Core.Judging;
using Harness.Core.Runs;

namespace Harness.Tests.Fakes;

/// <summary>An <see cref="IRunStore"/> in memory, with the same duplicate-key rule as the SQLite store.</summary>
internal sealed class InMemoryRunStore : IRunStore, IComparisonStore, IJudgementStore
{
    private readonly List<JudgementRecord> _judgements = [];

    public IReadOnlyList<JudgementRecord> Judgements => _judgements;

    public Task AppendJudgementAsync(JudgementRecord record, CancellationToken cancellationToken)
    {
        if (_judgements.Any(j => j.ModelId == record.ModelId && j.Suite == record.Suite && j.ItemId == record.ItemId && j.JudgeModelId == record.JudgeModelId))
        {
            throw new InvalidOperationException($"judgement of {record.ModelId}/{record.Suite}/{record.ItemId} by {record.JudgeModelId} is already recorded");
        }

        _judgements.Add(record);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<JudgementRecord> ReadJudgementsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var record in _judgements.ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return record;
        }
    }

    private readonly List<DriftRecord> _drift = [];
    private readonly List<PerplexityRecord> _perplexity = [];

    public IReadOnlyList<DriftRecord> Drift => _drift;

    public IReadOnlyList<PerplexityRecord> PerplexityHistory => _perplexity;

    public Task AppendDriftAsync(DriftRecord record, CancellationToken cancellationToken)
    {
        if (_drift.Any(d => d.CandidateModelId == record.CandidateModelId && d.Suite == record.Suite && d.ItemId == record.ItemId))
        {
            throw new InvalidOperationException($"drift of {record.CandidateModelId}/{record.Suite}/{record.ItemId} is already recorded");
        }

        _drift.Add(record);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<DriftRecord> ReadDriftAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var record in _drift.ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return record;
        }

        await Task.CompletedTask;
    }

    public Task RecordPerplexityAsync(PerplexityRecord record, CancellationToken cancellationToken)
    {
        _perplexity.Add(record);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PerplexityRecord>> ReadPerplexityAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PerplexityRecord>>(_perplexity.GroupBy(p => p.ModelId).Select(g => g.Last()).ToList());

    private readonly List<DriftAbsence> _absences = [];

    public IReadOnlyList<DriftAbsence> DriftAbsenceHistory => _absences;

    public Task RecordDriftAbsenceAsync(DriftAbsence record, CancellationToken cancellationToken)
    {
        _absences.Add(record);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DriftAbsence>> ReadDriftAbsencesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DriftAbsence>>(_absences.GroupBy(a => a.CandidateModelId).Select(g => g.Last()).ToList());

    private readonly List<ItemRecord> _items = [];
    private readonly List<ModelRunRecord> _models = [];

    public IReadOnlyList<ItemRecord> Items => _items;

    public IReadOnlyList<ModelRunRecord> ModelHistory => _models;

    public Task AppendItemAsync(ItemRecord record, CancellationToken cancellationToken)
    {
        if (_items.Any(i => i.Key == record.Key))
        {
            throw new InvalidOperationException($"item {record.Key} is already recorded");
        }

        _items.Add(record);
        return Task.CompletedTask;
    }

    public Task RecordModelAsync(ModelRunRecord record, CancellationToken cancellationToken)
    {
        _models.Add(record);
        return Task.CompletedTask;
    }

    public Task<IReadOnlySet<ItemKey>> GetRecordedKeysAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<ItemKey>>(_items.Select(i => i.Key).ToHashSet());

    public async IAsyncEnumerable<ItemRecord> ReadItemsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var item in _items.ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask;
    }

    public Task<IReadOnlyList<ModelRunRecord>> ReadModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ModelRunRecord>>(_models.GroupBy(m => m.ModelId).Select(g => g.Last()).ToList());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
