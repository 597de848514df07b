using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Cli.Workers;

/// <summary>
/// A native runtime as a run uses it: the same kind, versions and description as its in-process provider, but every model
/// loads in a <c>harness worker --backend &lt;kind&gt;</c> child process (<see cref="WorkerProcessBackend"/>), so an
/// abort or an out-of-memory kill costs one model, not the run.
/// </summary>
internal sealed class WorkerProcessProvider(
    IBackendProvider inProcess, WorkerLaunch launch, WatchdogSettings watchdog, TimeProvider timeProvider, Action<string>? log)
    : IBackendProvider
{
    public BackendKind Kind => inProcess.Kind;

    public IModelBackend Backend { get; } = new WorkerProcessBackend(
        launch with { Arguments = [.. launch.Arguments, "--backend", inProcess.Kind.ManifestName()] },
        inProcess.Backend.Name, watchdog, timeProvider, log);

    public ImmutableSortedDictionary<string, string> Versions => inProcess.Versions;

    // Describing loads nothing, so the parent may ask the in-process provider directly.
    public Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken) =>
        inProcess.DescribeAsync(model, location, cancellationToken);
}
