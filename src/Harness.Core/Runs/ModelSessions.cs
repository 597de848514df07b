using Harness.Core.Backends;

namespace Harness.Core.Runs;

/// <summary>
/// The session a model's items run on, and its replacement after one is lost. A lost session is disposed at once
/// (its worker killed); the next request loads a fresh one. A model whose sessions keep dying is given up on:
/// after <see cref="MaxConsecutiveLosses"/> losses with no answered request between them, or when a fresh session
/// cannot be loaded, <see cref="SessionLostException"/> ends the model's run as before.
/// </summary>
/// <param name="reload">Loads a fresh session; null: no second session (a lost session ends the model's run, and the
/// session stays the caller's to dispose).</param>
public sealed class ModelSessions(IModelSession first, Func<CancellationToken, Task<IModelSession>>? reload) : IAsyncDisposable
{
    private readonly Lock _times = new();
    private TimeSpan _retiredProcessorTime;
    private TimeSpan _retiredBusyTime;
    private TimeSpan _lastProcessorTime;
    private TimeSpan _lastBusyTime;

    /// <summary>Lost sessions in a row, no request answered in between, after which the model is marked crashed:
    /// one poison item takes two (its try and its retry), so the third means every worker dies.</summary>
    public const int MaxConsecutiveLosses = 3;

    private IModelSession? _current = first;
    private int _consecutiveLosses;

    /// <summary>The first session (its load facts describe the model's run).</summary>
    public IModelSession First { get; } = first;

    /// <summary>Whether a lost session can be replaced, so an item can be retried and recorded.</summary>
    public bool CanRenew => reload is not null;

    /// <summary>Sessions loaded after the first.</summary>
    public int Reloads { get; private set; }

    /// <summary>The live session, or null between a loss and the next <see cref="GetAsync"/>.</summary>
    public IModelSession? Current => _current;

    /// <summary>The live session, loading a fresh one after a loss.</summary>
    /// <exception cref="SessionLostException">The fresh session could not be loaded.</exception>
    public async Task<IModelSession> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is not null)
        {
            return _current;
        }

        if (reload is null)
        {
            throw new InvalidOperationException("the session was lost and cannot be renewed");
        }

        try
        {
            _current = await reload(cancellationToken).ConfigureAwait(false);
        }
        catch (ModelLoadException ex)
        {
            throw new SessionLostException($"a fresh worker could not load the model after a lost session: {ex.Message}", ex);
        }

        Reloads++;
        return _current;
    }

    /// <summary>A request was answered (or failed on its own): the sessions are not dying one after another.</summary>
    public void Answered() => _consecutiveLosses = 0;

    /// <summary>Records the loss of the current session and disposes it (where sessions can be renewed).</summary>
    /// <exception cref="SessionLostException">The model is given up on: sessions cannot be renewed, or too many were lost in a row.</exception>
    public async Task LostAsync(SessionLostException lost)
    {
        // Without a way to renew, the session is the caller's (the single-session overload): it disposes it.
        if (reload is null)
        {
            throw lost;
        }

        await DisposeCurrentAsync().ConfigureAwait(false);
        _consecutiveLosses++;

        if (_consecutiveLosses >= MaxConsecutiveLosses)
        {
            throw new SessionLostException(
                $"{_consecutiveLosses} workers in a row ended without answering a request; the last: {lost.Message}", lost, lost.Kind);
        }
    }

    public async ValueTask DisposeAsync() => await DisposeCurrentAsync().ConfigureAwait(false);

    /// <summary>
    /// CPU time of every worker the model ran in, for the energy estimate: the retired workers' last reading plus the
    /// live one's, so the count never goes back when a worker is replaced. Null when the sessions do not report it.
    /// </summary>
    public IReportsProcessorTime? ProcessorTime => First is IReportsProcessorTime ? new Times(this) : null;

    private (TimeSpan Processor, TimeSpan Busy) ReadTimes()
    {
        lock (_times)
        {
            if (_current is IReportsProcessorTime live)
            {
                try
                {
                    _lastProcessorTime = live.TotalProcessorTime;
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
                {
                    // The worker has exited: its last reading stands.
                }

                _lastBusyTime = live.BusyTime;
            }

            return (_retiredProcessorTime + _lastProcessorTime, _retiredBusyTime + _lastBusyTime);
        }
    }

    private async Task DisposeCurrentAsync()
    {
        ReadTimes();
        lock (_times)
        {
            _retiredProcessorTime += _lastProcessorTime;
            _retiredBusyTime += _lastBusyTime;
            (_lastProcessorTime, _lastBusyTime) = (TimeSpan.Zero, TimeSpan.Zero);
        }

        var session = _current;
        _current = null;
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Times(ModelSessions sessions) : IReportsProcessorTime
    {
        public TimeSpan TotalProcessorTime => sessions.ReadTimes().Processor;

        public TimeSpan BusyTime => sessions.ReadTimes().Busy;
    }
}
