using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using LLama;
using LLama.Native;

namespace Harness.Backends.LlamaSharp;

/// <summary>What was loaded natively, recorded in every <see cref="Core.Backends.ModelLoadInfo.Versions"/>.</summary>
/// <param name="NativeLibraryPath">Absolute path of the loaded libllama, or <c>unknown</c>.</param>
/// <param name="NativeVariant">LLamaSharp's description of the chosen build (AVX level, CUDA, Vulkan).</param>
/// <param name="SystemInfo">llama.cpp's <c>llama_print_system_info</c> string (CPU features it uses).</param>
public sealed record LlamaNativeInfo(
    string LlamaSharpVersion,
    string LlamaCppCommit,
    string NativeLibraryPath,
    string NativeVariant,
    string SystemInfo)
{
    public ImmutableSortedDictionary<string, string> ToVersions() =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["LLamaSharp"] = LlamaSharpVersion,
            ["llama.cpp"] = LlamaCppCommit,
            ["llama.cpp.native_library"] = NativeLibraryPath,
            ["llama.cpp.native_variant"] = NativeVariant,
            ["llama.cpp.system_info"] = SystemInfo,
        });
}

/// <summary>
/// The one process-global of this backend: LLamaSharp's <see cref="NativeLibraryConfig"/> must be configured
/// before any other LLamaSharp call and cannot change afterwards, so it is set here exactly once.
/// </summary>
public static class LlamaNativeRuntime
{
    /// <summary>llama.cpp commit that LLamaSharp 0.30.0 binaries are built from; the native API exposes no version.</summary>
    public const string LlamaCppCommit = "c0c7e14";

    private static readonly Lock Gate = new();
    private static LlamaNativeInfo? _info;
    private static NativeLogSink? _sink;

    /// <summary>
    /// The native error lines logged since the last call, oldest first; load failures quote them because
    /// llama.cpp explains the problem in its log (e.g. a tensor's wrong shape) and not in the failed call.
    /// </summary>
    public static IReadOnlyList<string> TakeRecentErrors() => _sink?.TakeErrors() ?? [];

    /// <summary>
    /// Sends every native log message, at every level and exactly as llama.cpp writes it, to <paramref name="log"/>
    /// instead of standard error until the result is disposed. For a command whose llama.cpp log is evidence to keep
    /// (the quantizer warns once per tensor) rather than lines to show. Errors are still kept for
    /// <see cref="TakeRecentErrors"/>. One capture at a time: the log callback is process-wide.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another capture is active.</exception>
    public static IDisposable CaptureLog(TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        EnsureInitialized();
        return _sink!.Capture(log);
    }

    /// <summary>
    /// Loads the native library once, sending llama.cpp's warnings and errors to <paramref name="nativeLog"/>
    /// (standard error when null). Later calls return the first result and ignore their writer: worker
    /// processes use stdout as a protocol channel, so nothing here ever writes to stdout.
    /// </summary>
    public static LlamaNativeInfo EnsureInitialized(TextWriter? nativeLog = null)
    {
        lock (Gate)
        {
            if (_info is not null)
                return _info;

            var sink = _sink = new NativeLogSink(nativeLog ?? Console.Error);
            if (NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                // Something touched LLamaSharp before us; the library choice is made, but the log can still be routed.
                NativeLogConfig.llama_log_set(sink.Write);
            }
            else
            {
                NativeLibraryConfig.All.WithLogCallback(sink.Write);
            }

            // Forces the native library to load (and the log callback to be installed) now, under the lock.
            NativeApi.llama_empty_call();

            var systemInfo = Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info()) ?? "unknown";
            var variant = NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama)?.Metadata?.ToString() ?? "unknown";
            _info = new LlamaNativeInfo(
                LlamaSharpVersion(),
                LlamaCppCommit,
                FindLoadedLibraryPath(),
                variant,
                systemInfo.Trim());
            return _info;
        }
    }

    /// <summary>Whether this build carries LLamaSharp's CUDA 12 backend (<c>-p:HarnessCuda=true</c>).</summary>
    public static bool CudaBuild =>
        string.Equals(typeof(LlamaNativeRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "HarnessCuda")?.Value, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Library versions known without loading the native library (for run.json, written by the parent process).</summary>
    public static ImmutableSortedDictionary<string, string> StaticVersions() =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["LLamaSharp"] = LlamaSharpVersion(),
            ["llama.cpp"] = LlamaCppCommit,
        });

    private static string LlamaSharpVersion()
    {
        var assembly = typeof(LLamaWeights).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }

        // The 0.30.0 package ships an assembly without version attributes; the csproj stamps the package
        // version this project was restored against into our own assembly instead.
        return typeof(LlamaNativeRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "LLamaSharpPackageVersion")?.Value ?? "unknown";
    }

    private static string FindLoadedLibraryPath()
    {
        // LLamaSharp picks one of several AVX builds at run time and does not expose the path it chose.
        using var process = Process.GetCurrentProcess();
        foreach (ProcessModule module in process.Modules)
        {
            var name = Path.GetFileName(module.FileName);
            if (name is "libllama.so" or "llama.dll" or "libllama.dylib")
                return module.FileName;
        }
        return "unknown";
    }

    /// <summary>Forwards native log messages at warning level and above, one prefixed line each.</summary>
    private sealed class NativeLogSink(TextWriter writer)
    {
        private readonly Lock _gate = new();
        private const int ErrorsKept = 4;
        private readonly Queue<string> _errors = new();
        private LLamaLogLevel _lastLevel = LLamaLogLevel.Info;
        private TextWriter? _capture;

        public IDisposable Capture(TextWriter log)
        {
            lock (_gate)
            {
                if (_capture is not null)
                    throw new InvalidOperationException("The native log is already being captured.");
                _capture = log;
                _lastLevel = LLamaLogLevel.Info;
            }

            return new CaptureScope(this, log);
        }

        private void EndCapture(TextWriter log)
        {
            lock (_gate)
            {
                if (ReferenceEquals(_capture, log))
                {
                    log.Flush();
                    _capture = null;
                }
            }
        }

        private sealed class CaptureScope(NativeLogSink sink, TextWriter log) : IDisposable
        {
            public void Dispose() => sink.EndCapture(log);
        }

        public IReadOnlyList<string> TakeErrors()
        {
            lock (_gate)
            {
                var errors = _errors.ToList();
                _errors.Clear();
                return errors;
            }
        }

        public void Write(LLamaLogLevel level, string message)
        {
            lock (_gate)
            {
                // llama.cpp sends multi-part lines as Continue fragments that inherit the previous level.
                var effective = level == LLamaLogLevel.Continue ? _lastLevel : level;
                _lastLevel = effective;
                if (_capture is not null)
                {
                    // Fragments are written as they come: llama.cpp builds one line from several calls.
                    _capture.Write(message);
                }

                if (effective is not (LLamaLogLevel.Warning or LLamaLogLevel.Error))
                    return;

                var text = new StringBuilder(effective == LLamaLogLevel.Error ? "llama.cpp error: " : "llama.cpp warning: ");
                text.Append(message.TrimEnd('\n'));
                if (effective == LLamaLogLevel.Error && message.Trim().Length > 0)
                {
                    if (level == LLamaLogLevel.Continue && _errors.Count > 0)
                    {
                        var last = _errors.Count - 1;
                        var merged = _errors.ToArray();
                        merged[last] += message.TrimEnd('\n');
                        _errors.Clear();
                        foreach (var e in merged)
                            _errors.Enqueue(e);
                    }
                    else
                    {
                        _errors.Enqueue(message.Trim());
                        if (_errors.Count > ErrorsKept)
                            _errors.Dequeue();
                    }
                }

                if (_capture is not null)
                    return;
                writer.WriteLine(text.ToString());
                writer.Flush();
            }
        }
    }
}
