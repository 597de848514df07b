using System.Diagnostics;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Models;
using Harness.Energy.Estimate;

namespace Harness.Energy;

/// <summary>
/// The meters a run reads per model: the measured meters chosen for the machine when there are any (machine-wide,
/// the same for every model), otherwise the CPU-time estimate of the session's own process.
/// </summary>
public sealed class SessionEnergyMeters(IReadOnlyList<IEnergyMeter> measured, EnergyEstimateParameters estimate) : IEnergyMeterSelection
{
    public IReadOnlyList<IEnergyMeter> MetersFor(ModelEntry model, IModelSession session)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (measured.Count > 0)
        {
            return measured;
        }

        return [EstimateFor(model, session, estimate)];
    }

    /// <summary>The estimate for one session: its worker's CPU time when it reports one, else this process's.</summary>
    public static CpuTimeEstimateMeter EstimateFor(ModelEntry model, IModelSession session, EnergyEstimateParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        var offloaded = model.Backend.GpuLayers != 0;
        if (session is IReportsProcessorTime times)
        {
            return new CpuTimeEstimateMeter(() => times.TotalProcessorTime, () => times.BusyTime, parameters, offloaded, "worker process");
        }

        // An in-process session: the whole harness process is what runs the model.
        return EstimateForThisProcess(parameters, offloaded);
    }

    /// <summary>The estimate of this process's own CPU time (in-process sessions, <c>harness doctor</c>).</summary>
    public static CpuTimeEstimateMeter EstimateForThisProcess(EnergyEstimateParameters parameters, bool gpuOffloaded = false)
    {
        var self = Process.GetCurrentProcess();
        return new CpuTimeEstimateMeter(
            () =>
            {
                self.Refresh();
                return self.TotalProcessorTime;
            },
            () => TimeSpan.Zero, parameters, gpuOffloaded, "harness process");
    }
}
