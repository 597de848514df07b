using System.Runtime.InteropServices;

namespace Harness.Cli.Workers;

/// <summary>
/// Test-only faults, set through the environment of the harness under test (workers inherit it): a worker given a
/// prompt containing <see cref="AbortOn"/> aborts (SIGABRT, like a failed GGML_ASSERT); one given a prompt containing
/// <see cref="StopOn"/> stops itself with SIGSTOP (a hung decode). Nothing sets these outside the integration tests.
/// </summary>
internal sealed partial record WorkerTestFaults(string? AbortOn, string? StopOn)
{
    public const string AbortVariable = "HARNESS_TEST_WORKER_ABORT_ON";
    public const string StopVariable = "HARNESS_TEST_WORKER_STOP_ON";


    /// <summary>The faults the environment asks for; null when none (always, outside tests).</summary>
    public static WorkerTestFaults? FromEnvironment()
    {
        var abort = Environment.GetEnvironmentVariable(AbortVariable);
        var stop = Environment.GetEnvironmentVariable(StopVariable);
        return string.IsNullOrEmpty(abort) && string.IsNullOrEmpty(stop) ? null : new WorkerTestFaults(NullIfEmpty(abort), NullIfEmpty(stop));
    }

    public void Apply(WorkerRequest request)
    {
        var prompts = new List<string>();
        if (request.Generate is { } generate)
        {
            prompts.Add(generate.Prompt.PlainText);
        }

        if (request.LogLikelihood is { } scored)
        {
            prompts.Add(scored.Prompt.PlainText);
        }

        if (request.Batch is { } batch)
        {
            prompts.AddRange(batch.Select(b => b.Prompt.PlainText));
        }

        if (AbortOn is { } abort && prompts.Any(p => p.Contains(abort, StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"test fault: abort() on a prompt containing '{abort}'");
            Console.Error.Flush();
            Abort();
        }

        if (StopOn is { } stop && prompts.Any(p => p.Contains(stop, StringComparison.Ordinal)) && !OperatingSystem.IsWindows())
        {
            // raise() signals the calling thread: it stops before this request is handled. kill() on the process would
            // hand the stop to any thread (the main one, often asleep), and on a busy machine this thread could answer
            // the request before the group stop reached it, hanging the next request instead.
            _ = Raise(OperatingSystem.IsMacOS() ? 17 : 19); // SIGSTOP
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    // libc's abort(), as a failed GGML_ASSERT calls it: SIGABRT, exit status 134, no managed unwinding.
    [LibraryImport("libc", EntryPoint = "abort")]
    private static partial void Abort();

    [LibraryImport("libc", EntryPoint = "raise", SetLastError = true)]
    private static partial int Raise(int signal);
}
