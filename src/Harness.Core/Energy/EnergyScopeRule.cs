using Harness.Core.Backends;

namespace Harness.Core.Energy;

/// <summary>
/// Which of a run's meters can describe a model's work, by where its backend works (<see cref="EnergyScope"/>). The
/// CPU-time estimate reads the harness's or its worker's CPU time: for a model answered by a server that time is the
/// client's, never the answer's cost, so it is not reported as the model's energy.
/// </summary>
public static class EnergyScopeRule
{
    public const string ServerProcess = "not applicable: the work happens in the server process; machine-wide meters only";

    public const string RemoteEndpoint = "not measured (remote endpoint)";

    /// <summary>The meters that apply, or none and the reason energy is not reported for the model.</summary>
    public static (IReadOnlyList<IEnergyMeter> Meters, string? NotReported) Apply(EnergyScope scope, IReadOnlyList<IEnergyMeter> meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        switch (scope)
        {
            case EnergyScope.Remote:
                return ([], RemoteEndpoint);
            case EnergyScope.OtherLocalProcess:
                var machineWide = meters.Where(m => m.Probe().Quality != EnergyQuality.Estimated).ToList();
                return machineWide.Count == 0 ? ([], ServerProcess) : (machineWide, null);
            default:
                return (meters, null);
        }
    }
}
