namespace Harness.Core.Downloads;

/// <summary>Progress of one download: a model, or a file of a catalogue benchmark.</summary>
/// <param name="ModelId">What is downloaded: the model id, or the dataset file's name.</param>
/// <param name="TotalBytes">The server's Content-Length, when it sent one.</param>
public sealed record DownloadProgress(string ModelId, Uri Url, long BytesDone, long? TotalBytes);
