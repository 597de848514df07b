using System.Collections.Immutable;
using Harness.Core.Energy;

namespace Harness.Energy.Windows;

/// <summary>Open EMI devices: each read takes one measurement per device and reports the counted channels' growth since open.</summary>
internal sealed class EmiCounter : IEnergyCounter
{
    private readonly EmiSurvey survey;
    private readonly ImmutableArray<EmiChannelChoice> counted;
    private readonly ulong[] openPicowattHours;
    private bool disposed;

    public EmiCounter(EmiSurvey survey)
    {
        this.survey = survey;
        counted = [.. survey.Choices.Where(c => c.Counted)];
        Channels = [.. counted.Select(c => new EnergyChannel(c.Name, c.Domain!.Value))];
        openPicowattHours = Measure();
    }

    public ImmutableArray<EnergyChannel> Channels { get; }

    public TimeSpan MaxReadInterval => EmiMeter.MaxReadInterval;

    public ImmutableArray<double> Read()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var now = Measure();
        var joules = new double[now.Length];
        for (var i = 0; i < now.Length; i++)
        {
            if (now[i] < openPicowattHours[i])
            {
                throw new EnergyMeterException($"emi: the counter of {counted[i].Name} went backwards");
            }

            joules[i] = (now[i] - openPicowattHours[i]) * EmiLayout.JoulesPerPicowattHour;
        }

        return [.. joules];
    }

    public void Dispose()
    {
        if (!disposed)
        {
            disposed = true;
            survey.Dispose();
        }
    }

    // One IOCTL per device returns all its channels at one instant; the counted ones are picked out of it.
    private ulong[] Measure()
    {
        var result = new ulong[counted.Length];
        for (var d = 0; d < survey.Devices.Length; d++)
        {
            var device = survey.Devices[d];
            if (!counted.Any(c => c.Device == d))
            {
                continue;
            }

            var channels = device.Metadata.Channels.Length;
            ImmutableArray<EmiMeasurement> measurements;
            try
            {
                measurements = EmiLayout.ParseMeasurements(
                    device.Device.Control(EmiLayout.IoctlGetMeasurement, channels * EmiLayout.MeasurementBytes), channels);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new EnergyMeterException($"emi: IOCTL_EMI_GET_MEASUREMENT on {device.Describe()}: {e.Message}", e);
            }

            for (var i = 0; i < counted.Length; i++)
            {
                if (counted[i].Device == d)
                {
                    result[i] = measurements[counted[i].Index].PicowattHours;
                }
            }
        }

        return result;
    }
}
