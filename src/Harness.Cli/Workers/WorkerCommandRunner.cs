using Harness.Core.Backends;

namespace Harness.Cli.Workers;

/// <summary>Entry of <c>harness worker</c>: protocol on a private stdout, Ctrl+C left to the parent.</summary>
internal static class WorkerCommandRunner
{
    public static async Task<int> RunAsync(IModelBackend backend, CancellationToken cancellationToken)
    {
        // The parent decides when a run stops; a terminal Ctrl+C reaches the whole process group, so ignore it here.
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        var output = ProtocolChannel.OpenOutput();
        await using (output.ConfigureAwait(false))
        {
            var input = Console.OpenStandardInput();
            return await new WorkerHost(backend, WorkerTestFaults.FromEnvironment()).RunAsync(input, output, cancellationToken).ConfigureAwait(false);
        }
    }
}
