namespace Harness.Core.Downloads;

/// <summary>Progress of one model download.</summary>
/// <param name="TotalBytes">The server's Content-Length, when it sent one.</param>
public sealed record DownloadProgress(string ModelId, Uri Url, long BytesDone, long? TotalBytes);
