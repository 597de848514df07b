using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Core.Energy;

/// <summary>
/// Parameters of the CPU-time estimate, used where no meter can measure. Recorded in run.json and named beside every
/// estimated figure.
/// </summary>
/// <param name="WattsPerCore">Power of one fully busy core: joules = CPU-seconds of the model's process × this.</param>
/// <param name="GpuBoardWatts">Board power of the GPU while it serves requests, for models with layers offloaded; null
/// leaves the GPU out of the estimate.</param>
public sealed record EnergyEstimateParameters(double WattsPerCore, double? GpuBoardWatts);

/// <summary>Chooses the meters to read while a model's session runs.</summary>
public interface IEnergyMeterSelection
{
    /// <summary>Hardware meters (machine-wide), or the estimate for the session's own process.</summary>
    IReadOnlyList<IEnergyMeter> MetersFor(ModelEntry model, IModelSession session);
}

/// <summary>How a run measures energy. Frozen before the first model; its settings go into run.json.</summary>
/// <param name="SampleInterval">Longest gap between background reads of the counters.</param>
/// <param name="IdleBaseline">How long the machine is measured idle, model loaded, before each model's items.</param>
public sealed record EnergyOptions(
    IEnergyMeterSelection Meters,
    IPowerStateProbe Power,
    TimeSpan SampleInterval,
    TimeSpan IdleBaseline);

/// <summary>What run.json records about energy: every meter probed (usable or not), the ones used, and the settings.</summary>
/// <param name="Probes">Every meter family probed on this machine, in the order tried.</param>
/// <param name="Selected">Sources read, e.g. <c>rapl</c> and <c>nvml</c>; <c>estimate</c> when none could measure.</param>
/// <param name="PowerAtStart">AC or battery, governor and thermal state when the run was planned.</param>
public sealed record EnergyPlan(
    System.Collections.Immutable.ImmutableArray<EnergyMeterProbe> Probes,
    System.Collections.Immutable.ImmutableArray<string> Selected,
    EnergyEstimateParameters Estimate,
    TimeSpan SampleInterval,
    TimeSpan IdleBaseline,
    PowerState PowerAtStart);
