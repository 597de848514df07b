namespace Harness.Core.Downloads;

/// <summary>
/// A verified download failed: HTTP status, network failure, a body that broke off, or bytes whose sha256 is not the
/// expected one. The message names the URL and the problem; nothing was left at the target path.
/// </summary>
public sealed class DownloadException(string message, Exception? inner = null) : Exception(message, inner);
