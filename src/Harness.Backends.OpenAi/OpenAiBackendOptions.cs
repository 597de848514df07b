using Harness.Core.Backends;

namespace Harness.Backends.OpenAi;

/// <summary>How the OpenAI-compatible backend waits and retries; recorded with every load.</summary>
/// <param name="Watchdog">Deadline rules of requests and loads, the same as the worker watchdog's (the model's
/// <c>item_timeout_s</c> / <c>load_timeout_s</c> replace them).</param>
/// <param name="MaxAttempts">Tries of one HTTP call on 429, 5xx, a refused or broken connection and a per-attempt timeout;
/// a call that returned a result is never tried again.</param>
/// <param name="RetryDelay">Base of the exponential backoff (with jitter) between tries; a 429 or 503's <c>Retry-After</c> wins.</param>
/// <param name="AttemptTimeout">Longest one try may wait for the response headers; null: the request's whole deadline.</param>
/// <param name="ConnectTimeout">Longest a TCP connect may take before the try counts as a connection error.</param>
public sealed record OpenAiBackendOptions(
    WatchdogSettings Watchdog,
    int MaxAttempts,
    TimeSpan RetryDelay,
    TimeSpan? AttemptTimeout,
    TimeSpan ConnectTimeout)
{
    /// <summary>The worker watchdog's rules; 4 tries 1 s, 2 s, 4 s apart (with jitter); connect within 10 s.</summary>
    public static OpenAiBackendOptions Default { get; } =
        new(WatchdogSettings.Default, 4, TimeSpan.FromSeconds(1), null, TimeSpan.FromSeconds(10));
}
