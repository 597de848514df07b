using Harness.Backends.LlamaSharp;

namespace Harness.Tests.Backends;

/// <summary>llama.cpp's quantizer log (c0c7e14), read into the one-line summary <c>harness quantize</c> prints.</summary>
public sealed class QuantizeLogTests
{
    // Lines of a real log: tiny-multi-m-f16 to Q4_K_M (the file has 39 tensors, 30 of them weight matrices).
    private const string Q4KmLog = """
        llama_model_loader: loaded meta data with 46 key-value pairs and 39 tensors from tiny-multi-m-f16.gguf (version GGUF V3 (latest))
        warning: token_embd.weight                    - ncols    128 not divisible by 256 (required for type    q4_K) -> falling back to    q5_0
        warning: blk.3.ffn_down.weight                - ncols    352 not divisible by 256 (required for type    q6_K) -> falling back to    q8_0
        warning: blk.3.ffn_up.weight                  - ncols    128 not divisible by 256 (required for type    q4_K) -> falling back to    q5_0
        [   1/  39] output.weight                        - [   128,    354,      1,      1], type =    f16, converting to q8_0 .. size =     0.09 MiB ->     0.05 MiB
        [   2/  39] output_norm.weight                   - [   128,      1,      1,      1], type =    f32, size =    0.000 MiB
        llama_model_quantize_impl: quant size  =     0.65 MiB (6.10 BPW)
        llama_model_quantize_impl: WARNING: 29 of 39 tensor(s) required fallback quantization

        """;

    [Fact]
    public void Each_fallback_line_and_llama_cpps_own_count_are_read()
    {
        var log = QuantizeLogSummary.Parse(Q4KmLog);

        Assert.Equal(4, log.Warnings);
        Assert.Equal(3, log.Fallbacks.Length);
        Assert.Equal(new LoggedFallback("blk.3.ffn_down.weight", 352, 256, "q6_K", "q8_0"), log.Fallbacks[1]);
        Assert.Equal(29, log.ReportedFallbacks);
        Assert.Equal(39, log.ReportedTensors);
    }

    [Fact]
    public void A_quantization_without_fallback_has_no_count_and_no_warnings()
    {
        var log = QuantizeLogSummary.Parse("[   1/  39] output.weight - [128, 354, 1, 1], type = f16, converting to q8_0 .. size = 0.09 MiB -> 0.05 MiB\n");

        Assert.Equal(0, log.Warnings);
        Assert.Empty(log.Fallbacks);
        Assert.Null(log.ReportedFallbacks);
    }

    [Fact]
    public void The_console_line_names_the_log_and_says_what_llama_cpps_total_counts()
    {
        var line = QuantizeLogSummary.ConsoleLine(
            [("Q8_0", QuantizeLogSummary.Parse(""), 0), ("Q4_K_M", QuantizeLogSummary.Parse(Q4KmLog), 29)], "out/m-quantize.log");

        Assert.Equal(
            "llama.cpp log: out/m-quantize.log (Q8_0: no warnings; Q4_K_M: 4 warnings; its \"29 of 39 tensor(s) required fallback\" counts "
            + "the same 29 as \"fell back\", out of all 39 tensors of the file, norms included)",
            line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void A_count_that_differs_from_the_table_is_said_not_hidden()
    {
        var line = QuantizeLogSummary.ConsoleLine([("Q4_K_M", QuantizeLogSummary.Parse(Q4KmLog), 30)], "m.log");

        Assert.Contains("\"29 of 39 tensor(s) required fallback\" counts 29 where \"fell back\" counts 30", line, StringComparison.Ordinal);
    }
}
