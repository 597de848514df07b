using Harness.Backends.LlamaSharp;
using Harness.Cli.Workers;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

/// <summary><c>harness worker</c>: the per-model child process. Not for people; the run command starts it.</summary>
internal sealed class WorkerCommand : AsyncCommand
{
    public override Task<int> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        WorkerCommandRunner.RunAsync(new LlamaSharpBackend(Console.Error), cancellationToken);
}
