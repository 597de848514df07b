using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Harness.Forge.Native;

/// <summary>Which ggml build the trainer runs on.</summary>
/// <param name="Folder">Absolute folder of the loaded libggml-base and libggml-cpu.</param>
/// <param name="Variant">The CPU build (avx512, avx2, avx, noavx), i.e. the folder's name.</param>
public sealed record GgmlLibraryInfo(string Folder, string Variant);

/// <summary>
/// Loads the libggml-base / libggml-cpu that LLamaSharp ships (llama.cpp commit c0c7e14) and routes this
/// assembly's P/Invoke library names to them. Process-global by nature, like LLamaSharp's own loader: a native
/// library is loaded once per process, and the resolver can be set once per assembly.
/// </summary>
public static class GgmlLibrary
{
    internal const string BaseName = "ggml-base";
    internal const string CpuName = "ggml-cpu";

    private static readonly Lock Gate = new();
    private static GgmlLibraryInfo? _info;
    private static IntPtr _base, _cpu;

    /// <summary>Loads the libraries once; later calls return the first result.</summary>
    /// <exception cref="DllNotFoundException">No ggml build for this machine next to the application.</exception>
    public static GgmlLibraryInfo EnsureLoaded()
    {
        lock (Gate)
        {
            if (_info is not null)
            {
                return _info;
            }

            var folder = AlreadyLoadedFolder() ?? ShippedFolder();
            _base = NativeLibrary.Load(Path.Combine(folder, FileName(BaseName)));
            _cpu = NativeLibrary.Load(Path.Combine(folder, FileName(CpuName)));
            NativeLibrary.SetDllImportResolver(typeof(GgmlLibrary).Assembly, Resolve);
            _info = new GgmlLibraryInfo(folder, Path.GetFileName(folder));
            return _info;
        }
    }

    /// <summary>The handle of libggml-base, for looking up function addresses; zero before <see cref="EnsureLoaded"/>.</summary>
    internal static IntPtr BaseHandle
    {
        get
        {
            lock (Gate)
            {
                return _base;
            }
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        BaseName => _base,
        CpuName => _cpu,
        _ => IntPtr.Zero,
    };

    /// <summary>
    /// When LLamaSharp already loaded its libllama in this process, its ggml is the one to use: loading a second
    /// copy from another variant folder would give two ggml instances with separate global state.
    /// </summary>
    private static string? AlreadyLoadedFolder()
    {
        using var process = Process.GetCurrentProcess();
        foreach (ProcessModule module in process.Modules)
        {
            if (Path.GetFileName(module.FileName) == FileName(BaseName) && Path.GetDirectoryName(module.FileName) is { } folder
                && File.Exists(Path.Combine(folder, FileName(CpuName))))
            {
                return folder;
            }
        }

        return null;
    }

    /// <summary>The variant folder LLamaSharp would pick on this CPU: the widest vector extension supported.</summary>
    private static string ShippedFolder()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeIdentifier(), "native");
        var variants = new List<string>();
        if (Avx512F.IsSupported)
        {
            variants.Add("avx512");
        }

        if (Avx2.IsSupported)
        {
            variants.Add("avx2");
        }

        if (Avx.IsSupported)
        {
            variants.Add("avx");
        }

        variants.Add("noavx");
        variants.Add(string.Empty);
        foreach (var variant in variants)
        {
            var folder = Path.Combine(root, variant);
            if (File.Exists(Path.Combine(folder, FileName(BaseName))) && File.Exists(Path.Combine(folder, FileName(CpuName))))
            {
                return Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
            }
        }

        throw new DllNotFoundException(
            $"No {FileName(BaseName)} + {FileName(CpuName)} under {root} (variants tried: {string.Join(", ", variants.Where(v => v.Length > 0))}). "
            + "Harness.Forge expects the LLamaSharp.Backend.Cpu package's native files in the application folder.");
    }

    private static string RuntimeIdentifier()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            _ => "x64",
        };
        return os + "-" + arch;
    }

    private static string FileName(string name) =>
        OperatingSystem.IsWindows() ? name + ".dll" : OperatingSystem.IsMacOS() ? "lib" + name + ".dylib" : "lib" + name + ".so";
}
