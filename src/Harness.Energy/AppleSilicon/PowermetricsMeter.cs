using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Harness.Core.Energy;

namespace Harness.Energy.AppleSilicon;

/// <summary>
/// Fallback for macOS when IOReport cannot be used: runs <c>powermetrics</c> (root only) for as long as the counter
/// is open and integrates its CPU, GPU and ANE power over each sample's printed elapsed time.
/// </summary>
public sealed class PowermetricsMeter : IEnergyMeter
{
    internal const string SourceName = "powermetrics";
    internal const string ScopeText = "Apple Silicon SoC: CPU, GPU and ANE power as powermetrics reports it (no DRAM)";
    internal const string NotRootRemedy = "run harness with sudo to use powermetrics, or rely on IOReport which needs no sudo";

    // Totals never wrap; the bound only keeps a recorder's poll timer finite.
    internal static readonly TimeSpan LongestReadGap = TimeSpan.FromHours(1);

    private readonly IPowermetricsSource _source;
    private readonly TimeSpan _sampleInterval;
    private readonly TimeProvider _timeProvider;
    private readonly bool _isMacOS;
    private readonly bool _isRoot;

    /// <summary>Runs <c>/usr/bin/powermetrics</c> with the given sample interval (its <c>-i</c>).</summary>
    public PowermetricsMeter(TimeSpan sampleInterval, TimeProvider timeProvider)
        : this(
            new ProcessPowermetricsSource(),
            sampleInterval,
            timeProvider,
            OperatingSystem.IsMacOS(),
            // .NET resolves the user name from the effective uid, which is 0 under sudo.
            System.Environment.UserName == "root")
    {
    }

    internal PowermetricsMeter(IPowermetricsSource source, TimeSpan sampleInterval, TimeProvider timeProvider, bool isMacOS, bool isRoot)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleInterval, TimeSpan.FromMilliseconds(1));
        _source = source;
        _sampleInterval = sampleInterval;
        _timeProvider = timeProvider;
        _isMacOS = isMacOS;
        _isRoot = isRoot;
    }

    /// <inheritdoc />
    public EnergyMeterProbe Probe()
    {
        if (!_isMacOS)
        {
            return Probe(false, "powermetrics is a macOS tool; this is not macOS", remedy: null);
        }

        if (!_isRoot)
        {
            return Probe(false, "powermetrics must be run as root and this process is not", NotRootRemedy);
        }

        return _source.IsInstalled
            ? Probe(true, string.Create(CultureInfo.InvariantCulture, $"{ProcessPowermetricsSource.ExecutablePath}, one sample every {_sampleInterval.TotalMilliseconds:0} ms"), remedy: null)
            : Probe(false, $"{ProcessPowermetricsSource.ExecutablePath} is missing", remedy: null);
    }

    /// <inheritdoc />
    public IEnergyCounter Open()
    {
        var probe = Probe();
        if (!probe.Usable)
        {
            throw new EnergyMeterException($"powermetrics: {probe.Detail}");
        }

        return new PowermetricsCounter(_source, _sampleInterval, _timeProvider);
    }

    private EnergyMeterProbe Probe(bool usable, string detail, string? remedy) =>
        new(
            SourceName,
            usable,
            EnergyQuality.Measured,
            ScopeText,
            // Energy becomes visible only when a sample is printed, so a window's edge is uncertain by one sample.
            _sampleInterval,
            // Powers are printed in whole milliwatts: 1 mW over one sample is the smallest step.
            1e-3 * _sampleInterval.TotalSeconds,
            detail,
            remedy);
}

/// <summary>The running counter: a pump feeds powermetrics' lines to the integrator until disposed.</summary>
internal sealed class PowermetricsCounter : IEnergyCounter
{
    private readonly PowermetricsIntegrator _integrator;
    private readonly CancellationTokenSource _stop = new();

    public PowermetricsCounter(IPowermetricsSource source, TimeSpan sampleInterval, TimeProvider timeProvider)
    {
        _integrator = new PowermetricsIntegrator(timeProvider);
        Pump = Task.Run(() => PumpAsync(source, sampleInterval, _stop.Token));
    }

    public ImmutableArray<EnergyChannel> Channels => PowermetricsIntegrator.Channels;

    public TimeSpan MaxReadInterval => PowermetricsMeter.LongestReadGap;

    /// <summary>Ends when the source ends; faulted when powermetrics failed.</summary>
    internal Task Pump { get; }

    public ImmutableArray<double> Read()
    {
        if (Pump.IsFaulted)
        {
            var cause = Pump.Exception?.InnerException;
            throw new EnergyMeterException($"powermetrics: stopped reporting: {cause?.Message}", cause);
        }

        return _integrator.Totals();
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        try
        {
            // The source kills powermetrics on cancellation; waiting keeps the child from outliving the counter.
            Pump.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Its failure was already reported by Read, or nobody reads any more.
        }

        _stop.Dispose();
    }

    private async Task PumpAsync(IPowermetricsSource source, TimeSpan sampleInterval, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var line in source.ReadLinesAsync(sampleInterval, cancellationToken).WithCancellation(cancellationToken))
            {
                _integrator.OnLine(line);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: a normal end.
        }
    }
}

/// <summary>
/// Turns powermetrics' text output into joules per channel. A sample starts with
/// <c>*** Sampled system activity (date) (1003.21ms elapsed) ***</c> and holds lines such as <c>CPU Power: 823 mW</c>;
/// each power times the sample's elapsed time is the sample's energy. Thread safe.
/// </summary>
internal sealed partial class PowermetricsIntegrator(TimeProvider timeProvider)
{
    public static ImmutableArray<EnergyChannel> Channels { get; } =
    [
        new("cpu", EnergyDomain.Cpu),
        new("gpu", EnergyDomain.Gpu),
        new("ane", EnergyDomain.Accelerator),
    ];

    private readonly Lock _gate = new();
    private readonly double[] _completed = new double[3];
    private readonly double?[] _current = new double?[3];
    private readonly long _openedAt = timeProvider.GetTimestamp();
    private long? _previousHeaderAt;
    private TimeSpan? _currentElapsed;

    public void OnLine(string line)
    {
        var header = Header().Match(line);
        if (header.Success)
        {
            StartSample(header);
            return;
        }

        var power = Power().Match(line);
        if (!power.Success)
        {
            return;
        }

        var index = power.Groups["rail"].Value switch
        {
            "CPU" => 0,
            "GPU" => 1,
            _ => 2,
        };
        var watts = double.Parse(power.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)
            * (power.Groups["unit"].Value == "mW" ? 1e-3 : 1);
        lock (_gate)
        {
            // The first figure of a sample wins: the gpu_power sampler repeats "GPU Power", and keeping the first keeps
            // the totals monotone.
            if (_currentElapsed is { } elapsed && _current[index] is null)
            {
                _current[index] = watts * elapsed.TotalSeconds;
            }
        }
    }

    public ImmutableArray<double> Totals()
    {
        lock (_gate)
        {
            return [.. _completed.Select((joules, i) => joules + (_current[i] ?? 0))];
        }
    }

    private void StartSample(Match header)
    {
        var now = timeProvider.GetTimestamp();
        lock (_gate)
        {
            for (var i = 0; i < _completed.Length; i++)
            {
                _completed[i] += _current[i] ?? 0;
                _current[i] = null;
            }

            // powermetrics prints a sample when its interval ends, so without a printed elapsed time the gap between
            // two headers (or since Open, for the first) is the sample's length.
            _currentElapsed = header.Groups["ms"].Success
                ? TimeSpan.FromMilliseconds(double.Parse(header.Groups["ms"].Value, NumberStyles.Float, CultureInfo.InvariantCulture))
                : timeProvider.GetElapsedTime(_previousHeaderAt ?? _openedAt, now);
            _previousHeaderAt = now;
        }
    }

    [GeneratedRegex(@"^\*\*\* Sampled system activity\b.*?(\((?<ms>[0-9]+(\.[0-9]+)?)\s*ms elapsed\))?\s*\*\*\*\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Header();

    // Anchored so that "Combined Power (CPU + GPU + ANE)", the sum of the three, never matches.
    [GeneratedRegex(@"^\s*(?<rail>CPU|GPU|ANE) Power:\s*(?<value>[0-9]+(\.[0-9]+)?)\s*(?<unit>mW|W)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Power();
}

/// <summary>The seam between the integrator and the powermetrics child process: its stdout, line by line.</summary>
internal interface IPowermetricsSource
{
    bool IsInstalled { get; }

    /// <summary>Lines of powermetrics' output until cancelled; cancelling stops the process.</summary>
    /// <exception cref="EnergyMeterException">powermetrics could not start or exited on its own.</exception>
    IAsyncEnumerable<string> ReadLinesAsync(TimeSpan sampleInterval, CancellationToken cancellationToken);
}

internal sealed class ProcessPowermetricsSource : IPowermetricsSource
{
    public const string ExecutablePath = "/usr/bin/powermetrics";

    public bool IsInstalled => File.Exists(ExecutablePath);

    public async IAsyncEnumerable<string> ReadLinesAsync(TimeSpan sampleInterval, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--samplers");
        info.ArgumentList.Add("cpu_power,gpu_power,ane_power");
        info.ArgumentList.Add("-i");
        info.ArgumentList.Add(Math.Max(1, (long)sampleInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        // Line-buffered (man powermetrics: --buffer-size, 1=line): into a pipe it would otherwise hold several samples back.
        info.ArgumentList.Add("-b");
        info.ArgumentList.Add("1");

        using var process = new Process { StartInfo = info };
        var errors = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } text)
            {
                lock (errors)
                {
                    errors.Enqueue(text);
                    if (errors.Count > 5)
                    {
                        errors.Dequeue();
                    }
                }
            }
        };

        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new EnergyMeterException($"powermetrics: {ExecutablePath} could not be started: {ex.Message}", ex);
        }

        process.BeginErrorReadLine();
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
            {
                yield return line;
            }

            await process.WaitForExitAsync(cancellationToken);
            string stderr;
            lock (errors)
            {
                stderr = string.Join(" | ", errors);
            }

            throw new EnergyMeterException($"powermetrics: exited with code {process.ExitCode}: {stderr}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }
}
