using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Harness.Forge.Native;

namespace Harness.IntegrationTests.Forge;

/// <summary>
/// The P/Invoke layer against the shipped binaries: struct sizes as declared, and field offsets confirmed by the
/// values the library itself writes (a header from another llama.cpp version would put them elsewhere).
/// </summary>
[Trait("Category", "Model")]
public sealed class GgmlNativeTests
{
    [Fact]
    public void Structs_have_the_sizes_of_the_c0c7e14_binaries()
    {
        Assert.Equal(72, Unsafe.SizeOf<GgmlOptParams>());
        Assert.Equal(72, Marshal.SizeOf<GgmlOptParams>());
        Assert.Equal(28, Unsafe.SizeOf<GgmlOptOptimizerParams>());
        Assert.Equal(24, Unsafe.SizeOf<GgmlInitParams>());
    }

    [Fact]
    public void The_library_loads_from_a_cpu_variant_folder()
    {
        var info = GgmlLibrary.EnsureLoaded();

        Assert.True(Path.IsPathRooted(info.Folder), info.Folder);
        Assert.True(info.Variant is "avx512" or "avx2" or "avx" or "noavx", info.Variant);
        Assert.True(Ggml.TensorOverhead() > 0);
    }

    [Fact]
    public void Default_opt_params_land_on_the_declared_fields()
    {
        GgmlLibrary.EnsureLoaded();

        var parameters = Ggml.OptDefaultParams(new IntPtr(0x1234), GgmlOptLossType.CrossEntropy);

        Assert.Equal(new IntPtr(0x1234), parameters.BackendSched);
        Assert.Equal(IntPtr.Zero, parameters.CtxCompute);
        Assert.Equal(IntPtr.Zero, parameters.Inputs);
        Assert.Equal(IntPtr.Zero, parameters.Outputs);
        Assert.Equal(GgmlOptLossType.CrossEntropy, parameters.LossType);
        Assert.Equal(GgmlOptBuildType.Opt, parameters.BuildType);
        Assert.Equal(1, parameters.OptPeriod);
        Assert.Equal(NativeLibrary.GetExport(GgmlLibrary.BaseHandle, "ggml_opt_get_default_optimizer_params"), parameters.GetOptPars);
        Assert.Equal(IntPtr.Zero, parameters.GetOptParsUserData);
        Assert.Equal(GgmlOptOptimizerType.AdamW, parameters.Optimizer);
    }

    [Fact]
    public void Default_optimizer_params_are_ggml_opts_documented_values()
    {
        GgmlLibrary.EnsureLoaded();

        var p = Ggml.OptGetDefaultOptimizerParams(IntPtr.Zero);

        Assert.Equal((0.001f, 0.9f, 0.999f, 1e-8f, 0f), (p.AdamWAlpha, p.AdamWBeta1, p.AdamWBeta2, p.AdamWEps, p.AdamWWeightDecay));
        Assert.Equal((0.001f, 0f), (p.SgdAlpha, p.SgdWeightDecay));
    }

    [Fact]
    public void The_constant_optimizer_callback_returns_all_28_bytes_of_its_userdata()
    {
        GgmlLibrary.EnsureLoaded();
        var expected = new GgmlOptOptimizerParams
        {
            AdamWAlpha = 1f, AdamWBeta1 = 2f, AdamWBeta2 = 3f, AdamWEps = 4f, AdamWWeightDecay = 5f, SgdAlpha = 6f, SgdWeightDecay = 7f,
        };

        var userData = Marshal.AllocHGlobal(Marshal.SizeOf<GgmlOptOptimizerParams>());
        GgmlOptOptimizerParams actual;
        try
        {
            Marshal.StructureToPtr(expected, userData, fDeleteOld: false);
            actual = Ggml.OptGetConstantOptimizerParams(userData);
        }
        finally
        {
            Marshal.FreeHGlobal(userData);
        }

        Assert.Equal(expected, actual);
        Assert.NotEqual(IntPtr.Zero, Ggml.ConstantOptimizerParamsCallback());
    }
}
