using System.ComponentModel;
using Harness.Cli.Running;
using Harness.Cli.Workers;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class WorkerSettings : CommandSettings
{
    [CommandOption("--backend <KIND>")]
    [Description("The runtime this worker hosts (manifest backend.kind), e.g. llamacpp")]
    public string? Backend { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrEmpty(Backend) ? ValidationResult.Error("worker needs --backend <kind> (the parent names the model's runtime)") : ValidationResult.Success();
}

/// <summary><c>harness worker --backend &lt;kind&gt;</c>: the per-model child process. Not for people; the run command starts it.</summary>
internal sealed class WorkerCommand : AsyncCommand<WorkerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, WorkerSettings settings, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        Core.Backends.IModelBackend backend;
        try
        {
            backend = HarnessBackends.ForWorker(settings.Backend!, new BackendServices(Console.Error, http, TimeProvider.System));
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"harness worker: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        return await WorkerCommandRunner.RunAsync(backend, cancellationToken).ConfigureAwait(false);
    }
}
