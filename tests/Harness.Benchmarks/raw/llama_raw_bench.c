// The raw llama.cpp C API reference for docs/performance.md: the same libllama that LLamaSharp ships, the same
// context settings and the same work as `harness bench`, with nothing in between. Built and run by
// tests/Harness.Benchmarks/inference-bench.sh; prints one JSON object per test.
//
// The llama.cpp structs below are declared here from the ABI of LLamaSharp 0.30.0's libllama (field offsets read
// from LLamaSharp's own interop structs); the program checks the defaults it reads back before trusting them.

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int32_t llama_token;
typedef int32_t llama_pos;
typedef int32_t llama_seq_id;
struct llama_model;
struct llama_context;
struct llama_vocab;
typedef struct llama_memory_i * llama_memory_t;

struct llama_model_params {            // 72 bytes
    void * devices;
    void * tensor_buft_overrides;
    int32_t n_gpu_layers;
    int32_t split_mode;
    int32_t load_mode;
    int32_t main_gpu;
    const float * tensor_split;
    void * progress_callback;
    void * progress_callback_user_data;
    const void * kv_overrides;
    bool vocab_only, check_tensors, use_extra_bufts, no_host, no_alloc, load_mtp;
};

struct llama_context_params {          // 160 bytes
    uint32_t n_ctx, n_batch, n_ubatch, n_seq_max, n_rs_seq, n_outputs_max;
    int32_t n_threads, n_threads_batch;
    int32_t context_type, rope_scaling_type, pooling_type, attention_type, flash_attn_type;
    float rope_freq_base, rope_freq_scale, yarn_ext_factor, yarn_attn_factor, yarn_beta_fast, yarn_beta_slow;
    uint32_t yarn_orig_ctx;
    float defrag_thold;
    void * cb_eval;
    void * cb_eval_user_data;
    int32_t type_k, type_v;
    void * abort_callback;
    void * abort_callback_data;
    bool embeddings, offload_kqv, no_perf, op_offload, swa_full, kv_unified;
    void * samplers;
    size_t n_samplers;
    void * ctx_other;
};

struct llama_batch {
    int32_t n_tokens;
    llama_token * token;
    float * embd;
    llama_pos * pos;
    int32_t * n_seq_id;
    llama_seq_id ** seq_id;
    int8_t * logits;
};

_Static_assert(sizeof(struct llama_model_params) == 72, "llama_model_params layout");
_Static_assert(sizeof(struct llama_context_params) == 160, "llama_context_params layout");
_Static_assert(sizeof(struct llama_batch) == 56, "llama_batch layout");

void llama_backend_init(void);
struct llama_model_params llama_model_default_params(void);
struct llama_context_params llama_context_default_params(void);
struct llama_model * llama_model_load_from_file(const char * path, struct llama_model_params params);
struct llama_context * llama_init_from_model(struct llama_model * model, struct llama_context_params params);
void llama_free(struct llama_context * ctx);
void llama_model_free(struct llama_model * model);
const struct llama_vocab * llama_model_get_vocab(const struct llama_model * model);
int32_t llama_vocab_n_tokens(const struct llama_vocab * vocab);
bool llama_vocab_get_add_bos(const struct llama_vocab * vocab);
int32_t llama_tokenize(const struct llama_vocab * vocab, const char * text, int32_t text_len, llama_token * tokens,
                       int32_t n_tokens_max, bool add_special, bool parse_special);
llama_memory_t llama_get_memory(const struct llama_context * ctx);
void llama_memory_clear(llama_memory_t mem, bool data);
bool llama_memory_seq_rm(llama_memory_t mem, llama_seq_id seq, llama_pos p0, llama_pos p1);
void llama_memory_seq_cp(llama_memory_t mem, llama_seq_id src, llama_seq_id dst, llama_pos p0, llama_pos p1);
int32_t llama_decode(struct llama_context * ctx, struct llama_batch batch);
float * llama_get_logits_ith(struct llama_context * ctx, int32_t i);
struct llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max);
void llama_batch_free(struct llama_batch batch);
uint32_t llama_n_ctx(const struct llama_context * ctx);

static struct llama_context * ctx;
static struct llama_batch batch;
static int n_vocab, n_batch;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char * what) { fprintf(stderr, "llama_raw_bench: %s\n", what); exit(1); }

static void batch_add(llama_token token, llama_pos pos, llama_seq_id seq, bool logits) {
    int i = batch.n_tokens++;
    batch.token[i] = token;
    batch.pos[i] = pos;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = seq;
    batch.logits[i] = logits;
}

static void decode(void) {
    if (llama_decode(ctx, batch) != 0) die("llama_decode failed");
    batch.n_tokens = 0;
}

// The same synthetic tokens as the harness's benchmark (ordinary tokens in a fixed pattern).
static llama_token synthetic(int index) { return 3 + (llama_token)(((int64_t)index * 7919 + 17) % (n_vocab - 3)); }

static int argmax(const float * logits) {
    int best = 0;
    for (int i = 1; i < n_vocab; i++) if (logits[i] > logits[best]) best = i;
    return best;
}

static double log_prob(const float * logits, llama_token token) {
    float max = logits[0];
    for (int i = 1; i < n_vocab; i++) if (logits[i] > max) max = logits[i];
    double sum = 0;
    for (int i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - max);
    return logits[token] - max - log(sum);
}

static void fill(llama_seq_id seq, int from, int count, bool logits_last) {
    for (int i = 0; i < count; i++) {
        if (batch.n_tokens == n_batch) decode();
        batch_add(synthetic(from + i), from + i, seq, logits_last && i == count - 1);
    }
    if (batch.n_tokens > 0) decode();
}

// One repetition of pp/tg: returns prompt seconds, ttft seconds, generation seconds.
static double t_gen_decode; // seconds inside llama_decode during the last run_once's generation

static void run_once(int prompt, int gen, int depth, int sequences, double * t_prompt, double * t_first, double * t_gen) {
    llama_memory_t mem = llama_get_memory(ctx);
    llama_memory_clear(mem, false);
    int untimed = depth + (prompt == 0 ? 1 : 0);
    for (int s = 0; s < sequences; s++) fill(s, 0, untimed, false);
    *t_prompt = *t_first = *t_gen = 0;
    if (prompt > 0) {
        double start = now_s();
        for (int s = 0; s < sequences; s++) {
            for (int i = 0; i < prompt; i++) {
                if (batch.n_tokens == n_batch) decode();
                batch_add(synthetic(untimed + i), untimed + i, s, i == prompt - 1);
            }
            int last = batch.n_tokens - 1;
            decode();
            if (s == sequences - 1) {
                *t_prompt = now_s() - start;
                (void)argmax(llama_get_logits_ith(ctx, last));
                *t_first = now_s() - start;
            }
        }
    }
    if (gen > 0) {
        llama_token tokens[256];
        for (int s = 0; s < sequences; s++) tokens[s] = synthetic(s);
        int pos = untimed + prompt;
        double start = now_s();
        t_gen_decode = 0;
        for (int step = 0; step < gen; step++, pos++) {
            for (int s = 0; s < sequences; s++) batch_add(tokens[s], pos, s, true);
            double d0 = now_s();
            decode();
            t_gen_decode += now_s() - d0;
            for (int s = 0; s < sequences; s++) tokens[s] = argmax(llama_get_logits_ith(ctx, s));
        }
        *t_gen = now_s() - start;
    }
    llama_memory_clear(mem, false);
}

static void print_values(const char * name, const double * v, int n) {
    printf(",\"%s\":[", name);
    for (int i = 0; i < n; i++) printf(i ? ",%.4f" : "%.4f", v[i]);
    printf("]");
}

static void stats(const double * v, int n, double * mean, double * sd) {
    double m = 0, q = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

// Multiple-choice items, one per line: context TAB choice TAB choice ... with \n, \t and \\ escaped.
#define MAX_ITEMS 4096
#define MAX_CHOICES 16
static char * contexts[MAX_ITEMS];
static char * choices[MAX_ITEMS][MAX_CHOICES];
static int n_choices[MAX_ITEMS];

static char * unescape(char * s) {
    char * out = s, * in = s;
    while (*in) {
        if (*in == '\\' && in[1]) { in++; *out++ = *in == 'n' ? '\n' : *in == 't' ? '\t' : *in; in++; }
        else *out++ = *in++;
    }
    *out = 0;
    return s;
}

static int read_items(const char * path) {
    FILE * f = fopen(path, "r");
    if (!f) die("cannot open the items file");
    static char line[1 << 16];
    int n = 0;
    while (n < MAX_ITEMS && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char * field = strtok(line, "\t");
        if (!field) continue;
        contexts[n] = strdup(unescape(field));
        n_choices[n] = 0;
        while ((field = strtok(NULL, "\t")) && n_choices[n] < MAX_CHOICES) choices[n][n_choices[n]++] = strdup(unescape(field));
        n++;
    }
    fclose(f);
    return n;
}

static const struct llama_vocab * vocab;
static bool add_bos;

static int tokenize(const char * text, llama_token * out, int max) {
    int n = llama_tokenize(vocab, text, (int)strlen(text), out, max, add_bos, false);
    if (n < 0) die("tokenize: buffer too small");
    return n;
}

// Scores every item's choices like the harness: the context's trailing whitespace moves to each continuation, and a
// continuation's tokens are those of context + choice after the context's own. reuse: context decoded once on
// sequence 0, copied to one sequence per choice, all choices in one batch. naive: context + choice from scratch.
static double score_items(int n_items, bool reuse, double * checksum) {
    static llama_token ctx_tokens[8192], whole[8192], cont[MAX_CHOICES][8192];
    static float first_logits[1 << 20];
    static char text[1 << 17];
    llama_memory_t mem = llama_get_memory(ctx);
    double start = now_s();
    for (int item = 0; item < n_items; item++) {
        size_t len = strlen(contexts[item]);
        while (len > 0 && (contexts[item][len - 1] == ' ' || contexts[item][len - 1] == '\n' || contexts[item][len - 1] == '\t' || contexts[item][len - 1] == '\r')) len--;
        char moved[64] = {0};
        strncpy(moved, contexts[item] + len, sizeof moved - 1);
        memcpy(text, contexts[item], len);
        text[len] = 0;
        int n_ctx_tokens = tokenize(text, ctx_tokens, 8192);
        int n_cont[MAX_CHOICES];
        for (int c = 0; c < n_choices[item]; c++) {
            snprintf(text, sizeof text, "%.*s%s%s", (int)len, contexts[item], moved, choices[item][c]);
            int n = tokenize(text, whole, 8192);
            n_cont[c] = n - n_ctx_tokens;
            memcpy(cont[c], whole + n_ctx_tokens, sizeof(llama_token) * n_cont[c]);
        }
        if (reuse) {
            llama_memory_clear(mem, false);
            for (int i = 0; i < n_ctx_tokens; i++) {
                if (batch.n_tokens == n_batch) decode();
                batch_add(ctx_tokens[i], i, 0, i == n_ctx_tokens - 1);
            }
            int last = batch.n_tokens - 1;
            decode();
            memcpy(first_logits, llama_get_logits_ith(ctx, last), sizeof(float) * n_vocab);
            for (int c = 0; c < n_choices[item]; c++) {
                *checksum += log_prob(first_logits, cont[c][0]);
                if (c > 0) llama_memory_seq_cp(mem, 0, c, -1, -1);
            }
            int row_choice[8192], row_token[8192];
            for (int c = 0; c < n_choices[item]; c++) {
                for (int j = 0; j < n_cont[c] - 1; j++) {
                    if (batch.n_tokens == n_batch) die("choices exceed one batch; raise --batch");
                    row_choice[batch.n_tokens] = c;
                    row_token[batch.n_tokens] = j;
                    batch_add(cont[c][j], n_ctx_tokens + j, c, true);
                }
            }
            int rows = batch.n_tokens;
            if (rows > 0) decode();
            for (int r = 0; r < rows; r++)
                *checksum += log_prob(llama_get_logits_ith(ctx, r), cont[row_choice[r]][row_token[r] + 1]);
        } else {
            for (int c = 0; c < n_choices[item]; c++) {
                llama_memory_clear(mem, false);
                int total = n_ctx_tokens + n_cont[c] - 1;
                int rows_from = -1;
                for (int i = 0; i < total; i++) {
                    if (batch.n_tokens == n_batch) die("context + choice exceed one batch; raise --batch");
                    llama_token t = i < n_ctx_tokens ? ctx_tokens[i] : cont[c][i - n_ctx_tokens];
                    bool wants = i >= n_ctx_tokens - 1;
                    if (wants && rows_from < 0) rows_from = batch.n_tokens;
                    batch_add(t, i, 0, wants);
                }
                decode();
                for (int j = 0; j < n_cont[c]; j++)
                    *checksum += log_prob(llama_get_logits_ith(ctx, rows_from + j), cont[c][j]);
            }
        }
    }
    return now_s() - start;
}

static int arg_int(int argc, char ** argv, const char * name, int fallback) {
    for (int i = 1; i < argc - 1; i++) if (!strcmp(argv[i], name)) return atoi(argv[i + 1]);
    return fallback;
}

static const char * arg_str(int argc, char ** argv, const char * name) {
    for (int i = 1; i < argc - 1; i++) if (!strcmp(argv[i], name)) return argv[i + 1];
    return NULL;
}

int main(int argc, char ** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: llama_raw_bench MODEL.gguf pp|tg|pg|mc [--prompt N] [--gen N] [--depth N] [--parallel P]\n"
                        "       [--threads T] [--ctx C] [--batch B] [--gpu-layers G] [--load-mode 0|1] [--reps R] [--warmup W]\n"
                        "       [--min-warmup-ms MS] [--items FILE] [--naive] [--label NAME]\n");
        return 2;
    }
    const char * path = argv[1], * mode = argv[2];
    int prompt = arg_int(argc, argv, "--prompt", 128), gen = arg_int(argc, argv, "--gen", 64);
    int depth = arg_int(argc, argv, "--depth", 0), parallel = arg_int(argc, argv, "--parallel", 1);
    const char * label = arg_str(argc, argv, "--label") ? arg_str(argc, argv, "--label") : "model";
    int threads = arg_int(argc, argv, "--threads", 2), ctx_per_seq = arg_int(argc, argv, "--ctx", 512);
    int reps = arg_int(argc, argv, "--reps", 5), warmup = arg_int(argc, argv, "--warmup", 1);
    // Like `harness bench`: the warm-up lasts at least this long, so the first timed repetition finds a steady state.
    double min_warmup_s = arg_int(argc, argv, "--min-warmup-ms", 1000) / 1000.0;
    n_batch = arg_int(argc, argv, "--batch", 512);
    bool naive = false;
    for (int i = 3; i < argc; i++) if (!strcmp(argv[i], "--naive")) naive = true;
    if (!strcmp(mode, "pp")) gen = 0;
    if (!strcmp(mode, "tg")) prompt = 0;
    if (parallel < 1 || parallel > 256) die("--parallel must be 1..256");

    llama_backend_init();
    struct llama_context_params check = llama_context_default_params();
    if (check.n_ctx != 512 || check.n_batch != 2048 || check.n_ubatch != 512 || check.n_seq_max != 1)
        die("llama_context_default_params does not read back as expected: the struct layout does not match this libllama");
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = arg_int(argc, argv, "--gpu-layers", 0);
    // 0: read into memory (the harness's setting, see LlamaSharpBackend), 1: mmap (llama.cpp's default).
    mp.load_mode = arg_int(argc, argv, "--load-mode", 0);
    struct llama_model * model = llama_model_load_from_file(path, mp);
    if (!model) die("cannot load the model");
    vocab = llama_model_get_vocab(model);
    n_vocab = llama_vocab_n_tokens(vocab);
    add_bos = llama_vocab_get_add_bos(vocab);

    // The harness's context: explicit threads, non-unified KV, one KV stream per sequence, batch = ubatch.
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)(ctx_per_seq * parallel);
    cp.n_seq_max = (uint32_t)parallel;
    cp.n_batch = cp.n_ubatch = (uint32_t)n_batch;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.kv_unified = false;
    cp.no_perf = false;
    ctx = llama_init_from_model(model, cp);
    if (!ctx) die("cannot create the context");
    batch = llama_batch_init(n_batch > parallel ? n_batch : parallel, 0, 1);

    if (!strcmp(mode, "mc")) {
        const char * items = arg_str(argc, argv, "--items");
        if (!items) die("mc needs --items FILE");
        int n = read_items(items);
        double checksum = 0, seconds[64];
        double warm_start = now_s();
        for (int r = 0; r < warmup || (warmup > 0 && now_s() - warm_start < min_warmup_s); r++) score_items(n, !naive, &checksum);
        if (reps > 64) reps = 64;
        double rates[64];
        for (int r = 0; r < reps; r++) { checksum = 0; seconds[r] = score_items(n, !naive, &checksum); rates[r] = n / seconds[r]; }
        double mean, sd;
        stats(rates, reps, &mean, &sd);
        printf("{\"engine\":\"raw\",\"model\":\"%s\",\"test\":\"mc-%s\",\"items\":%d,\"threads\":%d,\"batch\":%d,\"parallel\":%d,\"depth\":0,"
               "\"reps\":%d,\"items_per_s_mean\":%.4f,\"items_per_s_sd\":%.4f,\"sum_log_prob\":%.6f",
               label, naive ? "naive" : "reuse", n, threads, n_batch, parallel, reps, mean, sd, checksum);
        print_values("values", rates, reps);
        printf("}\n");
    } else {
        double pp[64], tg[64], pg[64], ttft[64], in_decode = 0, outside = 0, a, b, c;
        double warm_start = now_s();
        for (int r = 0; r < warmup || (warmup > 0 && now_s() - warm_start < min_warmup_s); r++) run_once(prompt, gen, depth, parallel, &a, &b, &c);
        if (reps > 64) reps = 64;
        for (int r = 0; r < reps; r++) {
            run_once(prompt, gen, depth, parallel, &a, &b, &c);
            pp[r] = a > 0 ? (double)prompt * parallel / a : 0;
            ttft[r] = b * 1000;
            tg[r] = c > 0 ? (double)gen * parallel / c : 0;
            pg[r] = a + c > 0 ? (double)(prompt + gen) * parallel / (a + c) : 0;
            if (gen > 0) { in_decode += t_gen_decode / gen; outside += (c - t_gen_decode) / gen; }
        }
        double ppm, pps, tgm, tgs, pgm, pgs, fm, fs;
        stats(pp, reps, &ppm, &pps); stats(tg, reps, &tgm, &tgs); stats(pg, reps, &pgm, &pgs); stats(ttft, reps, &fm, &fs);
        printf("{\"engine\":\"raw\",\"model\":\"%s\",\"test\":\"%s\",\"prompt\":%d,\"gen\":%d,\"threads\":%d,\"batch\":%d,\"parallel\":%d,\"depth\":%d,"
               "\"reps\":%d,\"pp_tps_mean\":%.3f,\"pp_tps_sd\":%.3f,\"tg_tps_mean\":%.3f,\"tg_tps_sd\":%.3f,"
               "\"pg_tps_mean\":%.3f,\"pg_tps_sd\":%.3f,\"ttft_ms_mean\":%.3f,\"ttft_ms_sd\":%.3f,\"n_ctx\":%u",
               label, mode, prompt, gen, threads, n_batch, parallel, depth, reps, ppm, pps, tgm, tgs, pgm, pgs, fm, fs, llama_n_ctx(ctx));
        if (gen > 0)
            printf(",\"tg_decode_ms_per_step\":%.4f,\"tg_outside_us_per_step\":%.3f", in_decode / reps * 1e3, outside / reps * 1e6);
        // The test's own metric per repetition, for pooling rounds: pp t/s, tg t/s or pg t/s.
        print_values("values", !strcmp(mode, "pp") ? pp : !strcmp(mode, "tg") ? tg : pg, reps);
        print_values("ttft_values", ttft, reps);
        printf("}\n");
    }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
