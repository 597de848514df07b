#!/usr/bin/env bash
# Reproduces the inference table of docs/performance.md: the harness (`harness bench`) against the raw llama.cpp C API
# (raw/llama_raw_bench.c, built here against the libllama that LLamaSharp ships), same models, threads and settings,
# in one run. Models: the 113M-parameter random-weight llama the harness forges (F16, Q8_0, Q4_0; not committed, it
# is written to .cache/bench) and the project's tiny models.
#   usage: tests/Harness.Benchmarks/inference-bench.sh [OUTPUT_DIR]     (about 20 minutes on 2 cores)
# Environment: THREADS (default: logical cores), REPS (5), ITEMS (64), PARALLEL (1,4,8,16), MODELS (override the list).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="${1:-results/inference-bench-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
threads="${THREADS:-$(nproc)}"
reps="${REPS:-5}"
items="${ITEMS:-64}"
parallel="${PARALLEL:-1,4,8,16}"
cache="$root/.cache/bench"
mkdir -p "$cache"

echo "== building the harness (Release)"
dotnet publish src/Harness.Cli -c Release -o "$cache/harness" --nologo -v quiet >/dev/null
harness="$cache/harness/harness"

if [[ ! -f "$cache/bench-113m-f16.gguf" ]]; then
  echo "== forging the 113M-parameter random-weight model"
  "$harness" forge --recipe bench-113m --output "$cache/bench-113m-f16.gguf"
fi
for q in q8_0 q4_0; do
  [[ -f "$cache/bench-113m-f16-$q.gguf" ]] || "$harness" quantize "$cache/bench-113m-f16.gguf" --types "$q" --no-manifest --output-dir "$cache" >/dev/null
done

# LLamaSharp loads the AVX variant the CPU supports; the raw program must link the same one (checked below).
if grep -qw avx512f /proc/cpuinfo; then variant=avx512; elif grep -qw avx2 /proc/cpuinfo; then variant=avx2; elif grep -qw avx /proc/cpuinfo; then variant=avx; else variant=noavx; fi
native="$cache/harness/runtimes/linux-x64/native/$variant"
echo "== building the raw C-API reference against $native/libllama.so"
gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$cache/llama_raw_bench" tests/Harness.Benchmarks/raw/llama_raw_bench.c \
  -L"$native" -lllama -lm -Wl,-rpath,"$native"

models="${MODELS:-$cache/bench-113m-f16.gguf $cache/bench-113m-f16-q8_0.gguf $cache/bench-113m-f16-q4_0.gguf models/tiny-multi-m-f16.gguf models/tiny-multi-m-q8_0.gguf models/tiny-multi-m-q4_0.gguf}"
raw="$out/raw.jsonl"
: > "$raw"
for model in $models; do
  label="$(basename "$model" .gguf)"
  echo "== $label"
  # The multiple-choice items both engines score: the sentiment suite's first $items items, as the harness renders them.
  "$harness" bench --model-file "$model" -p 0 -n 0 --suite tasks/sentiment --items "$items" -r 1 --warmup 0 -t "$threads" -o "$out/items-$label" >/dev/null
  grep -q "native/$variant/libllama.so" "$out/items-$label/bench.json" || { echo "the harness loaded another libllama than $variant" >&2; exit 1; }
  mc="$out/items-$label/mc-items-sentiment.tsv"
  rawb() { "$cache/llama_raw_bench" "$model" "$@" --label "$label" --threads "$threads" --reps "$reps" --warmup 1 2>/dev/null >> "$raw"; }
  rawb pp --prompt 512
  for p in ${parallel//,/ }; do rawb tg --gen 128 --parallel "$p"; done
  rawb mc --items "$mc" --naive --parallel 1
  for p in ${parallel//,/ }; do [[ "$p" -gt 1 ]] && rawb mc --items "$mc" --parallel "$p"; done
  "$harness" bench --model-file "$model" -p 512 -n 128 --parallel "$parallel" -t "$threads" -r "$reps" \
    --suite tasks/sentiment --suite tasks/arith --items "$items" --reference "$raw" -o "$out/$label" | tail -n +1 > "$out/$label.log"
done

echo "== tables"
for model in $models; do cat "$out/$(basename "$model" .gguf)/bench.md"; echo; done | tee "$out/summary.md"
