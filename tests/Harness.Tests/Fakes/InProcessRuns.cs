using Harness.Cli.Running;
using Harness.Core.Backends;
using Harness.Core.Downloads;
using Harness.Core.Energy;

namespace Harness.Tests.Fakes;

/// <summary>
/// <see cref="RunService"/> as the in-process CLI tests build it: the test's backends, a model cache under the test's
/// folder, a fixed clock, and no hardware meter on AC power (as on this VM: the estimate is what a run reads).
/// </summary>
internal static class InProcessRuns
{
    /// <summary>The estimate only, no idle baseline, sampled every 50 ms: energy settings that keep a test fast.</summary>
    public static readonly EnergySettings QuickEnergy =
        new(false, new EnergyEstimateParameters(12, null), IdleBaseline: TimeSpan.Zero, SampleInterval: TimeSpan.FromMilliseconds(50));

    public static RunService Service(BackendRegistry backends, string root, HttpClient http, DateTimeOffset now) =>
        new(backends, ModelResolver.Create(http, new HarnessCache(Path.Combine(root, "cache"))), new FixedClock(now),
            new EnergyHardware(() => [], new FakePowerProbe(new PowerState(PowerSource.Ac, null, "performance", null, null))));
}
