namespace Harness.Core.Runs;

/// <summary>
/// The crash-safe record of one run. Every append is durable when the call returns, so a kill at any
/// point loses at most the item in flight.
/// </summary>
public interface IRunStore : IAsyncDisposable
{
    Task AppendItemAsync(ItemRecord record, CancellationToken cancellationToken);

    Task RecordModelAsync(ModelRunRecord record, CancellationToken cancellationToken);

    /// <summary>Keys of items that already have a record (scored or failed): a resume skips them.</summary>
    Task<IReadOnlySet<ItemKey>> GetRecordedKeysAsync(CancellationToken cancellationToken);

    /// <summary>Every item record, in the order they were committed.</summary>
    IAsyncEnumerable<ItemRecord> ReadItemsAsync(CancellationToken cancellationToken);

    /// <summary>The newest record per model.</summary>
    Task<IReadOnlyList<ModelRunRecord>> ReadModelsAsync(CancellationToken cancellationToken);
}
