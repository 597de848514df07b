using System.Collections.Immutable;
using Harness.Backends.LlamaSharp;
using Harness.Backends.OnnxGenAI;
using Harness.Backends.OpenAi;
using Harness.Cli.Workers;
using Harness.Core.Backends;

namespace Harness.Cli.Running;

/// <summary>What a backend may need to be built: where native logs go, the HTTP client of served backends, the clock.</summary>
internal sealed record BackendServices(TextWriter NativeLog, HttpClient Http, TimeProvider Time);

/// <summary>One runtime of this build: its in-process provider, and whether a run isolates it in worker processes.</summary>
/// <param name="InWorker">Native runtimes (an abort or an OOM kill must cost one model, not the run) run in
/// <c>harness worker --backend &lt;kind&gt;</c>; served backends (HTTP) run in the parent.</param>
internal sealed record BackendRegistration(IBackendProvider Provider, bool InWorker);

/// <summary>
/// The backends of this build, registered in one place (<see cref="Registrations"/>): run, compare, judge, bench and the
/// worker all get them from here, so no command names an implementation and a new runtime is one line below.
/// </summary>
internal static class HarnessBackends
{
    /// <summary>Every runtime of this build. Register a new one here (one line).</summary>
    private static ImmutableArray<BackendRegistration> Registrations(BackendServices services) =>
    [
        new(new LlamaCppBackendProvider(services.NativeLog), InWorker: true),
        new(new OnnxGenAiBackendProvider(services.Time), InWorker: true),
        new(new OpenAiBackendProvider(OpenAiBackendOptions.Default, services.Time), InWorker: false),
    ];

    /// <summary>
    /// The registry a run uses: native runtimes behind <see cref="WorkerProcessProvider"/> (one worker process per model),
    /// served ones as they are.
    /// </summary>
    public static BackendRegistry ForRun(BackendServices services, WorkerLaunch launch, WatchdogSettings watchdog, Action<string>? log) =>
        new(Registrations(services).Select(r => r.InWorker
            ? new WorkerProcessProvider(r.Provider, launch, watchdog, services.Time, log)
            : r.Provider));

    /// <summary>The registry <c>harness bench</c> uses: every backend in this process (its throughput probe does not cross the worker protocol).</summary>
    public static BackendRegistry InProcess(BackendServices services) => new(Registrations(services).Select(r => r.Provider));

    /// <summary>The backend <c>harness worker --backend <paramref name="kindName"/></c> hosts.</summary>
    /// <exception cref="ArgumentException">The kind is unknown, not part of this build, or not one that runs in a worker.</exception>
    public static IModelBackend ForWorker(string kindName, BackendServices services)
    {
        var registrations = Registrations(services);
        var workerKinds = string.Join(", ", registrations.Where(r => r.InWorker).Select(r => r.Provider.Kind.ManifestName()));
        if (!BackendKinds.TryParse(kindName, out var kind))
        {
            throw new ArgumentException($"unknown backend '{kindName}'; this build's worker hosts: {workerKinds}");
        }

        var registration = registrations.FirstOrDefault(r => r.Provider.Kind == kind)
            ?? throw new ArgumentException($"backend '{kindName}' is not part of this build; its worker hosts: {workerKinds}");
        return registration.InWorker
            ? registration.Provider.Backend
            : throw new ArgumentException($"backend '{kindName}' runs in the harness process, not in a worker; worker backends: {workerKinds}");
    }

    /// <summary>The CLI's run service: every backend of this build, models resolved through the cache.</summary>
    public static RunService CreateRunService(HttpClient http, Scoring.HarnessScorers scorers)
    {
        var services = new BackendServices(Console.Error, http, TimeProvider.System);
        var registry = ForRun(services, WorkerLaunch.CurrentProcess(), WatchdogSettings.Default, message => Console.Error.WriteLine(message));
        return new RunService(registry, Core.Downloads.ModelResolver.Create(http, Core.Downloads.HarnessCache.FromEnvironment()),
            TimeProvider.System, EnergyHardware.ThisMachine(TimeProvider.System), scorers);
    }
}
