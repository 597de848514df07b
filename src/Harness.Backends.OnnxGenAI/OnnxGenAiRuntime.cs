using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Harness.Backends.OnnxGenAI;

/// <summary>The build's execution provider and the library versions recorded in run.json.</summary>
internal static partial class OnnxGenAiRuntime
{
    /// <summary>The execution provider this build appends (<c>cpu</c>: none, ONNX Runtime's default CPU provider).</summary>
    public static string Provider { get; } = Metadata("HarnessOnnxProvider") ?? "cpu";

    public static string GenAiPackageVersion { get; } = Metadata("OnnxRuntimeGenAIPackageVersion") ?? "unknown";

    private static readonly Lazy<string> NativeOrtVersion = new(ReadOrtVersion);

    /// <summary>Versions as the registry and every load record them.</summary>
    /// <exception cref="DllNotFoundException">The native ONNX Runtime is missing from the build output.</exception>
    public static ImmutableSortedDictionary<string, string> Versions() =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["Microsoft.ML.OnnxRuntimeGenAI"] = GenAiPackageVersion,
            ["onnxruntime"] = NativeOrtVersion.Value,
            ["onnxruntime_provider"] = Provider,
        });

    private static string? Metadata(string key) =>
        typeof(OnnxGenAiRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } value ? value : null;

    // The native library's own answer, not the package we asked for: GenAI loads whichever libonnxruntime sits beside it.
    private static unsafe string ReadOrtVersion()
    {
        var apiBase = OrtGetApiBase();
        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
        var getVersionString = (delegate* unmanaged<IntPtr>)Marshal.ReadIntPtr(apiBase, IntPtr.Size);
        return Marshal.PtrToStringUTF8(getVersionString()) ?? "unknown";
    }

    [LibraryImport("onnxruntime")]
    private static partial IntPtr OrtGetApiBase();
}
