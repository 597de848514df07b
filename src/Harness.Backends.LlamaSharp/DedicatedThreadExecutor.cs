using System.Collections.Concurrent;

namespace Harness.Backends.LlamaSharp;

/// <summary>
/// Runs work items one at a time on a single OS thread that lives as long as the executor.
/// </summary>
/// <remarks>
/// Every native call of one llama.cpp context goes through here. ggml's CPU thread pool spin-waits for the
/// thread that submitted the last graph; when successive decodes arrive from different thread-pool threads
/// (as with <c>Task.Run</c> per decode) the workers fall asleep and throughput drops to 0.2-0.75x.
/// Pinning the context to one thread measured 0.99-1.03x raw llama.cpp.
/// </remarks>
internal sealed class DedicatedThreadExecutor : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;
    private int _disposed;

    public DedicatedThreadExecutor(string threadName)
    {
        _thread = new Thread(RunLoop) { IsBackground = true, Name = threadName };
        _thread.Start();
    }

    /// <summary>True when called from the executor's own thread.</summary>
    public bool IsCurrentThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>
    /// Queues <paramref name="work"/>. Cancellation before the item starts cancels the task at once; once it
    /// has started, <paramref name="work"/> itself must observe the token (between decodes).
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<CancellationToken, T> work, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled<T>(cancellationToken);

        // Continuations must never run on the dedicated thread, or callers' code would occupy it.
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = 0; // 0 queued, 1 started, 2 cancelled while queued
        var registration = cancellationToken.Register(() =>
        {
            if (Interlocked.CompareExchange(ref state, 2, 0) == 0)
                completion.TrySetCanceled(cancellationToken);
        });

        void Run()
        {
            registration.Dispose();
            if (Interlocked.CompareExchange(ref state, 1, 0) != 0)
                return;
            try
            {
                completion.TrySetResult(work(cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                completion.TrySetCanceled(cancellationToken);
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }
        }

        try
        {
            _queue.Add(Run, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            registration.Dispose();
            throw new ObjectDisposedException(nameof(DedicatedThreadExecutor), "The model session has been disposed.");
        }

        return completion.Task;
    }

    private void RunLoop()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
            item();
    }

    /// <summary>Lets queued items finish, then stops the thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _queue.CompleteAdding();
        if (IsCurrentThread)
            return; // the loop ends by itself after this item; the queue is left to the GC
        _thread.Join();
        _queue.Dispose();
    }
}
