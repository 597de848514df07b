namespace Harness.Core.Downloads;

/// <summary>
/// A model's file could not be made available: missing path, checksum mismatch, failed download.
/// The message names the model and the problem.
/// </summary>
public sealed class ModelResolutionException(string modelId, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string ModelId { get; } = modelId;
}
