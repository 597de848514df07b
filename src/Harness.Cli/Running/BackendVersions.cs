using Harness.Backends.LlamaSharp;

namespace Harness.Cli.Running;

/// <summary>The backend this build runs, and its library versions for run.json.</summary>
internal static class BackendVersions
{
    public static string BackendName => LlamaSharpBackend.BackendName;

    public static IEnumerable<KeyValuePair<string, string>> Known => LlamaSharpBackend.LibraryVersions;
}
