using Harness.Backends.LlamaSharp;

namespace Harness.Cli.Running;

/// <summary>The backend this build runs, and its library versions for run.json (the native details are per model, from the worker).</summary>
internal static class BackendVersions
{
    public const string BackendName = "llamasharp";

    public static IEnumerable<KeyValuePair<string, string>> Known => LlamaNativeRuntime.StaticVersions();
}
