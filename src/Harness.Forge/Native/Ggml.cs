using System.Runtime.InteropServices;

namespace Harness.Forge.Native;

/// <summary>ggml's tensor types that the trainer uses (values of <c>enum ggml_type</c>).</summary>
internal enum GgmlTensorType
{
    F32 = 0,
    F16 = 1,
    I32 = 26,
}

/// <summary><c>enum ggml_opt_loss_type</c>.</summary>
internal enum GgmlOptLossType
{
    Mean = 0,
    Sum = 1,
    CrossEntropy = 2,
    MeanSquaredError = 3,
}

/// <summary><c>enum ggml_opt_build_type</c>.</summary>
internal enum GgmlOptBuildType
{
    Forward = 10,
    Grad = 20,
    Opt = 30,
}

/// <summary><c>enum ggml_opt_optimizer_type</c>.</summary>
internal enum GgmlOptOptimizerType
{
    AdamW = 0,
    Sgd = 1,
}

/// <summary><c>struct ggml_init_params</c> (24 bytes on 64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GgmlInitParams
{
    public nuint MemSize;
    public IntPtr MemBuffer;

    /// <summary>C bool: 1 = tensors get no data (allocated later by a backend buffer).</summary>
    public byte NoAlloc;
}

/// <summary>
/// <c>struct ggml_opt_optimizer_params</c> at c0c7e14: adamw {alpha, beta1, beta2, eps, wd} then sgd {alpha, wd},
/// 28 bytes. Newer ggml adds adamw.gclip (32 bytes); the disassembly of ggml_opt_get_default_optimizer_params in
/// the shipped binary writes exactly 28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GgmlOptOptimizerParams
{
    public float AdamWAlpha;
    public float AdamWBeta1;
    public float AdamWBeta2;
    public float AdamWEps;
    public float AdamWWeightDecay;
    public float SgdAlpha;
    public float SgdWeightDecay;
}

/// <summary>
/// <c>struct ggml_opt_params</c> at c0c7e14, 72 bytes (offsets read off ggml_opt_default_params in the shipped
/// binary). Newer headers insert grad_checkpoint_interval before optimizer; this build has no such field.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct GgmlOptParams
{
    [FieldOffset(0x00)] public IntPtr BackendSched;
    [FieldOffset(0x08)] public IntPtr CtxCompute;
    [FieldOffset(0x10)] public IntPtr Inputs;
    [FieldOffset(0x18)] public IntPtr Outputs;
    [FieldOffset(0x20)] public GgmlOptLossType LossType;
    [FieldOffset(0x24)] public GgmlOptBuildType BuildType;
    [FieldOffset(0x28)] public int OptPeriod;
    [FieldOffset(0x30)] public IntPtr GetOptPars;
    [FieldOffset(0x38)] public IntPtr GetOptParsUserData;
    [FieldOffset(0x40)] public GgmlOptOptimizerType Optimizer;
}

/// <summary>
/// The ggml functions the trainer calls, declared against the shipped binaries (llama.cpp c0c7e14). Call
/// <see cref="GgmlLibrary.EnsureLoaded"/> first: it resolves <see cref="GgmlLibrary.BaseName"/> and
/// <see cref="GgmlLibrary.CpuName"/>. Every pointer is a raw ggml handle owned by the caller.
/// </summary>
internal static partial class Ggml
{
    private const string Base = GgmlLibrary.BaseName;
    private const string Cpu = GgmlLibrary.CpuName;

    // ---- context and tensors ----
    [LibraryImport(Base, EntryPoint = "ggml_init")]
    internal static partial IntPtr Init(GgmlInitParams parameters);

    [LibraryImport(Base, EntryPoint = "ggml_free")]
    internal static partial void Free(IntPtr context);

    [LibraryImport(Base, EntryPoint = "ggml_tensor_overhead")]
    internal static partial nuint TensorOverhead();

    [LibraryImport(Base, EntryPoint = "ggml_graph_overhead_custom")]
    internal static partial nuint GraphOverheadCustom(nuint size, [MarshalAs(UnmanagedType.U1)] bool grads);

    [LibraryImport(Base, EntryPoint = "ggml_new_tensor_1d")]
    internal static partial IntPtr NewTensor1d(IntPtr context, GgmlTensorType type, long ne0);

    [LibraryImport(Base, EntryPoint = "ggml_new_tensor_2d")]
    internal static partial IntPtr NewTensor2d(IntPtr context, GgmlTensorType type, long ne0, long ne1);

    [LibraryImport(Base, EntryPoint = "ggml_set_name")]
    internal static partial IntPtr SetName(IntPtr tensor, [MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [LibraryImport(Base, EntryPoint = "ggml_nbytes")]
    internal static partial nuint NBytes(IntPtr tensor);

    [LibraryImport(Base, EntryPoint = "ggml_nelements")]
    internal static partial long NElements(IntPtr tensor);

    [LibraryImport(Base, EntryPoint = "ggml_set_param")]
    internal static partial void SetParam(IntPtr tensor);

    [LibraryImport(Base, EntryPoint = "ggml_set_input")]
    internal static partial void SetInput(IntPtr tensor);

    [LibraryImport(Base, EntryPoint = "ggml_set_output")]
    internal static partial void SetOutput(IntPtr tensor);

    // ---- ops (every one has a backward pass in ggml at this commit) ----
    [LibraryImport(Base, EntryPoint = "ggml_get_rows")]
    internal static partial IntPtr GetRows(IntPtr context, IntPtr a, IntPtr rows);

    [LibraryImport(Base, EntryPoint = "ggml_rms_norm")]
    internal static partial IntPtr RmsNorm(IntPtr context, IntPtr a, float eps);

    [LibraryImport(Base, EntryPoint = "ggml_mul")]
    internal static partial IntPtr Mul(IntPtr context, IntPtr a, IntPtr b);

    [LibraryImport(Base, EntryPoint = "ggml_add")]
    internal static partial IntPtr Add(IntPtr context, IntPtr a, IntPtr b);

    [LibraryImport(Base, EntryPoint = "ggml_mul_mat")]
    internal static partial IntPtr MulMat(IntPtr context, IntPtr a, IntPtr b);

    [LibraryImport(Base, EntryPoint = "ggml_silu")]
    internal static partial IntPtr Silu(IntPtr context, IntPtr a);

    [LibraryImport(Base, EntryPoint = "ggml_reshape_2d")]
    internal static partial IntPtr Reshape2d(IntPtr context, IntPtr a, long ne0, long ne1);

    [LibraryImport(Base, EntryPoint = "ggml_reshape_4d")]
    internal static partial IntPtr Reshape4d(IntPtr context, IntPtr a, long ne0, long ne1, long ne2, long ne3);

    [LibraryImport(Base, EntryPoint = "ggml_permute")]
    internal static partial IntPtr Permute(IntPtr context, IntPtr a, int axis0, int axis1, int axis2, int axis3);

    [LibraryImport(Base, EntryPoint = "ggml_cont")]
    internal static partial IntPtr Cont(IntPtr context, IntPtr a);

    [LibraryImport(Base, EntryPoint = "ggml_diag_mask_inf")]
    internal static partial IntPtr DiagMaskInf(IntPtr context, IntPtr a, int nPast);

    [LibraryImport(Base, EntryPoint = "ggml_soft_max_ext")]
    internal static partial IntPtr SoftMaxExt(IntPtr context, IntPtr a, IntPtr mask, float scale, float maxBias);

    /// <summary>mode 0 is llama's rotation of adjacent pairs (LLAMA_ROPE_TYPE_NORM), not NeoX.</summary>
    [LibraryImport(Base, EntryPoint = "ggml_rope_ext")]
    internal static partial IntPtr RopeExt(IntPtr context, IntPtr a, IntPtr positions, IntPtr frequencyFactors,
        int dimensions, int mode, int contextOriginal, float frequencyBase, float frequencyScale, float extFactor,
        float attentionFactor, float betaFast, float betaSlow);

    // ---- graphs ----
    [LibraryImport(Base, EntryPoint = "ggml_new_graph")]
    internal static partial IntPtr NewGraph(IntPtr context);

    [LibraryImport(Base, EntryPoint = "ggml_build_forward_expand")]
    internal static partial void BuildForwardExpand(IntPtr graph, IntPtr tensor);

    [LibraryImport(Base, EntryPoint = "ggml_gallocr_new")]
    internal static partial IntPtr GallocrNew(IntPtr bufferType);

    [LibraryImport(Base, EntryPoint = "ggml_gallocr_free")]
    internal static partial void GallocrFree(IntPtr allocator);

    [LibraryImport(Base, EntryPoint = "ggml_gallocr_alloc_graph")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool GallocrAllocGraph(IntPtr allocator, IntPtr graph);

    /// <summary>Returns <c>enum ggml_status</c>; 0 is success.</summary>
    [LibraryImport(Base, EntryPoint = "ggml_backend_graph_compute")]
    internal static partial int BackendGraphCompute(IntPtr backend, IntPtr graph);

    [LibraryImport(Base, EntryPoint = "ggml_backend_get_default_buffer_type")]
    internal static partial IntPtr BackendGetDefaultBufferType(IntPtr backend);

    // ---- backend ----
    [LibraryImport(Cpu, EntryPoint = "ggml_backend_cpu_init")]
    internal static partial IntPtr BackendCpuInit();

    [LibraryImport(Cpu, EntryPoint = "ggml_backend_cpu_set_n_threads")]
    internal static partial void BackendCpuSetThreads(IntPtr backend, int threads);

    [LibraryImport(Base, EntryPoint = "ggml_backend_free")]
    internal static partial void BackendFree(IntPtr backend);

    [LibraryImport(Base, EntryPoint = "ggml_backend_alloc_ctx_tensors")]
    internal static partial IntPtr BackendAllocContextTensors(IntPtr context, IntPtr backend);

    [LibraryImport(Base, EntryPoint = "ggml_backend_buffer_free")]
    internal static partial void BackendBufferFree(IntPtr buffer);

    [LibraryImport(Base, EntryPoint = "ggml_backend_tensor_set")]
    internal static partial void BackendTensorSet(IntPtr tensor, IntPtr data, nuint offset, nuint size);

    [LibraryImport(Base, EntryPoint = "ggml_backend_tensor_get")]
    internal static partial void BackendTensorGet(IntPtr tensor, IntPtr data, nuint offset, nuint size);

    [LibraryImport(Base, EntryPoint = "ggml_backend_sched_new")]
    internal static partial IntPtr BackendSchedNew(IntPtr backends, IntPtr bufferTypes, int backendCount, nuint graphSize,
        [MarshalAs(UnmanagedType.U1)] bool parallel, [MarshalAs(UnmanagedType.U1)] bool opOffload);

    [LibraryImport(Base, EntryPoint = "ggml_backend_sched_free")]
    internal static partial void BackendSchedFree(IntPtr sched);

    // ---- ggml-opt ----
    [LibraryImport(Base, EntryPoint = "ggml_opt_default_params")]
    internal static partial GgmlOptParams OptDefaultParams(IntPtr sched, GgmlOptLossType lossType);

    [LibraryImport(Base, EntryPoint = "ggml_opt_get_default_optimizer_params")]
    internal static partial GgmlOptOptimizerParams OptGetDefaultOptimizerParams(IntPtr userData);

    [LibraryImport(Base, EntryPoint = "ggml_opt_get_constant_optimizer_params")]
    internal static partial GgmlOptOptimizerParams OptGetConstantOptimizerParams(IntPtr userData);

    [LibraryImport(Base, EntryPoint = "ggml_opt_init")]
    internal static partial IntPtr OptInit(GgmlOptParams parameters);

    [LibraryImport(Base, EntryPoint = "ggml_opt_free")]
    internal static partial void OptFree(IntPtr opt);

    [LibraryImport(Base, EntryPoint = "ggml_opt_reset")]
    internal static partial void OptReset(IntPtr opt, [MarshalAs(UnmanagedType.U1)] bool optimizer);

    [LibraryImport(Base, EntryPoint = "ggml_opt_inputs")]
    internal static partial IntPtr OptInputs(IntPtr opt);

    [LibraryImport(Base, EntryPoint = "ggml_opt_outputs")]
    internal static partial IntPtr OptOutputs(IntPtr opt);

    [LibraryImport(Base, EntryPoint = "ggml_opt_labels")]
    internal static partial IntPtr OptLabels(IntPtr opt);

    [LibraryImport(Base, EntryPoint = "ggml_opt_loss")]
    internal static partial IntPtr OptLoss(IntPtr opt);

    [LibraryImport(Base, EntryPoint = "ggml_opt_alloc")]
    internal static partial void OptAlloc(IntPtr opt, [MarshalAs(UnmanagedType.U1)] bool backward);

    [LibraryImport(Base, EntryPoint = "ggml_opt_eval")]
    internal static partial void OptEval(IntPtr opt, IntPtr result);

    [LibraryImport(Base, EntryPoint = "ggml_opt_result_init")]
    internal static partial IntPtr OptResultInit();

    [LibraryImport(Base, EntryPoint = "ggml_opt_result_free")]
    internal static partial void OptResultFree(IntPtr result);

    [LibraryImport(Base, EntryPoint = "ggml_opt_result_reset")]
    internal static partial void OptResultReset(IntPtr result);

    [LibraryImport(Base, EntryPoint = "ggml_opt_result_loss")]
    internal static unsafe partial void OptResultLoss(IntPtr result, double* loss, double* uncertainty);

    /// <summary>Address of <c>ggml_opt_get_constant_optimizer_params</c>, the callback that reads params from userdata.</summary>
    internal static IntPtr ConstantOptimizerParamsCallback() =>
        NativeLibrary.GetExport(GgmlLibrary.BaseHandle, "ggml_opt_get_constant_optimizer_params");
}
