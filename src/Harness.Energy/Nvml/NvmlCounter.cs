using System.Collections.Immutable;
using Harness.Core.Energy;

namespace Harness.Energy.Nvml;

/// <summary>
/// Open NVML counters. Energy-counter GPUs report the counter's growth since open; power-polling GPUs integrate each
/// read's power sample with the previous one by the trapezoid rule over the <see cref="TimeProvider"/>'s timestamps.
/// Holds one NVML initialisation, released on dispose.
/// </summary>
internal sealed class NvmlCounter : IEnergyCounter
{
    private readonly INvml nvml;
    private readonly TimeProvider timeProvider;
    private readonly ImmutableArray<NvmlDevice> devices;

    // Per device: the energy counter at open (millijoules), or the last power sample and the joules integrated so far.
    private readonly ulong[] openMillijoules;
    private readonly long[] lastTimestamp;
    private readonly uint[] lastMilliwatts;
    private readonly double[] integratedJoules;
    private bool disposed;

    public NvmlCounter(INvml nvml, TimeProvider timeProvider, ImmutableArray<NvmlDevice> devices)
    {
        this.nvml = nvml;
        this.timeProvider = timeProvider;
        this.devices = devices;
        openMillijoules = new ulong[devices.Length];
        lastTimestamp = new long[devices.Length];
        lastMilliwatts = new uint[devices.Length];
        integratedJoules = new double[devices.Length];
        Channels = [.. devices.Select(d => new EnergyChannel(d.Channel, EnergyDomain.Gpu))];
        MaxReadInterval = devices.Any(d => d.Method == NvmlMethod.PowerPolling)
            ? NvmlMeter.PollingInterval
            : NvmlMeter.CounterMaxReadInterval;

        for (var i = 0; i < devices.Length; i++)
        {
            if (devices[i].Method == NvmlMethod.EnergyCounter)
            {
                openMillijoules[i] = ReadMillijoules(i);
            }
            else
            {
                lastMilliwatts[i] = ReadMilliwatts(i);
                lastTimestamp[i] = timeProvider.GetTimestamp();
            }
        }
    }

    public ImmutableArray<EnergyChannel> Channels { get; }

    public TimeSpan MaxReadInterval { get; }

    public ImmutableArray<double> Read()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var joules = new double[devices.Length];
        for (var i = 0; i < devices.Length; i++)
        {
            joules[i] = devices[i].Method == NvmlMethod.EnergyCounter ? CounterJoules(i) : PolledJoules(i);
        }

        return [.. joules];
    }

    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            nvml.Shutdown();
        }
    }

    private double CounterJoules(int i)
    {
        var now = ReadMillijoules(i);
        if (now < openMillijoules[i])
        {
            throw new EnergyMeterException(
                $"nvml: the energy counter of {devices[i].Channel} went backwards (driver reloaded or GPU reset?)");
        }

        return (now - openMillijoules[i]) / 1000.0;
    }

    private double PolledJoules(int i)
    {
        var milliwatts = ReadMilliwatts(i);
        var timestamp = timeProvider.GetTimestamp();
        var seconds = timeProvider.GetElapsedTime(lastTimestamp[i], timestamp).TotalSeconds;
        integratedJoules[i] += (lastMilliwatts[i] + (double)milliwatts) / 2 / 1000 * seconds;
        lastMilliwatts[i] = milliwatts;
        lastTimestamp[i] = timestamp;
        return integratedJoules[i];
    }

    private ulong ReadMillijoules(int i)
    {
        var code = nvml.GetTotalEnergyConsumption(devices[i].Index, out var millijoules);
        return code == NvmlReturn.Success
            ? millijoules
            : throw ReadFailure(i, "nvmlDeviceGetTotalEnergyConsumption", code);
    }

    private uint ReadMilliwatts(int i)
    {
        var code = nvml.GetPowerUsage(devices[i].Index, out var milliwatts);
        return code == NvmlReturn.Success ? milliwatts : throw ReadFailure(i, "nvmlDeviceGetPowerUsage", code);
    }

    private EnergyMeterException ReadFailure(int i, string call, NvmlReturn code) =>
        new($"nvml: {devices[i].Channel}: {NvmlMeter.Failure(nvml, call, code)}");
}
