using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Energy;

namespace Harness.Energy.Estimate;

/// <summary>
/// The estimate used where no meter can measure: CPU-seconds of the process that holds the model times the
/// configured watts per busy core, plus, for a model with GPU layers and a configured board power, the time spent
/// serving requests times that power. Always <see cref="EnergyQuality.Estimated"/>, labelled with its parameters, and
/// never added to a measured figure. Busy-spinning threads (ggml's pool) count as busy: they draw power too.
/// </summary>
/// <param name="processorTime">Cumulative CPU time of the model's process.</param>
/// <param name="busyTime">Cumulative wall time spent serving requests; used only when <paramref name="gpuOffloaded"/>.</param>
/// <param name="process">The process in words, for the scope ("worker process 4242").</param>
public sealed class CpuTimeEstimateMeter(
    Func<TimeSpan> processorTime,
    Func<TimeSpan> busyTime,
    EnergyEstimateParameters parameters,
    bool gpuOffloaded,
    string process) : IEnergyMeter
{
    /// <summary>Linux and macOS account CPU time in scheduler ticks; 10 ms is the coarsest common tick.</summary>
    public static readonly TimeSpan CpuTimeResolution = TimeSpan.FromMilliseconds(10);

    private bool CountsGpu => gpuOffloaded && parameters.GpuBoardWatts is > 0;

    private EnergyEstimateParameters Parameters => parameters;

    private string Process => process;

    private TimeSpan ReadProcessorTime() => processorTime();

    private TimeSpan ReadBusyTime() => busyTime();

    public EnergyMeterProbe Probe()
    {
        var scope = string.Create(CultureInfo.InvariantCulture, $"estimate: CPU time of the {process} × {parameters.WattsPerCore:0.###} W per core");
        if (CountsGpu)
        {
            scope += string.Create(CultureInfo.InvariantCulture, $" + request time × {parameters.GpuBoardWatts:0.###} W GPU board power");
        }

        return new EnergyMeterProbe(
            "estimate", Usable: parameters.WattsPerCore > 0, EnergyQuality.Estimated, scope, CpuTimeResolution,
            parameters.WattsPerCore * CpuTimeResolution.TotalSeconds,
            parameters.WattsPerCore > 0 ? "no hardware meter is used; CPU time is multiplied by configured watts" : "watts per core must be positive",
            Remedy: null);
    }

    public IEnergyCounter Open()
    {
        if (parameters.WattsPerCore <= 0)
        {
            throw new EnergyMeterException(string.Create(CultureInfo.InvariantCulture, $"energy estimate: watts per core must be positive, got {parameters.WattsPerCore}"));
        }

        return new Counter(this);
    }

    private sealed class Counter : IEnergyCounter
    {
        private readonly CpuTimeEstimateMeter _meter;
        private readonly TimeSpan _cpuAtOpen;
        private readonly TimeSpan _busyAtOpen;

        public Counter(CpuTimeEstimateMeter meter)
        {
            _meter = meter;
            _cpuAtOpen = Cpu();
            _busyAtOpen = meter.ReadBusyTime();
            Channels = meter.CountsGpu
                ? [new EnergyChannel("cpu", EnergyDomain.Process), new EnergyChannel("gpu", EnergyDomain.Gpu)]
                : [new EnergyChannel("cpu", EnergyDomain.Process)];
        }

        public ImmutableArray<EnergyChannel> Channels { get; }

        // Nothing wraps; the recorder's own interval decides how often it reads.
        public TimeSpan MaxReadInterval => TimeSpan.FromHours(1);

        public ImmutableArray<double> Read()
        {
            var cpu = (Cpu() - _cpuAtOpen).TotalSeconds * _meter.Parameters.WattsPerCore;
            return _meter.CountsGpu
                ? [cpu, (_meter.ReadBusyTime() - _busyAtOpen).TotalSeconds * _meter.Parameters.GpuBoardWatts!.Value]
                : [cpu];
        }

        public void Dispose()
        {
        }

        private TimeSpan Cpu()
        {
            try
            {
                return _meter.ReadProcessorTime();
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // The process exited or its CPU time cannot be read: the recorder stops taking readings.
                throw new EnergyMeterException($"energy estimate: cannot read the CPU time of the {_meter.Process}: {ex.Message}", ex);
            }
        }
    }
}
