namespace Harness.Tasks.Catalog;

/// <summary>
/// A catalogue fetch cannot go on: an unknown name, a missing or altered local file, or a suite folder that holds
/// something else. The message names the file or folder and the problem; nothing was written.
/// </summary>
public sealed class CatalogException(string message, Exception? inner = null) : Exception(message, inner);
