#!/usr/bin/env bash
# Reproduces the inference table of docs/performance.md: the harness (`harness bench`) against the raw llama.cpp C API
# (raw/llama_raw_bench.c, built here against the libllama that LLamaSharp ships), same models, threads and settings,
# in one run. Models: the 113M-parameter random-weight llama the harness forges (F16, Q8_0, Q4_0; not committed, it
# is written to .cache/bench) and the project's tiny models.
#   usage: tests/Harness.Benchmarks/inference-bench.sh [OUTPUT_DIR]     (about 30 minutes on 2 cores)
# Environment: THREADS (default: logical cores), REPS per round (2), ROUNDS (3), ITEMS (32), PARALLEL (1,4,16), MODELS.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="${1:-results/inference-bench-$(date -u +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
threads="${THREADS:-$(nproc)}"
reps="${REPS:-2}"
rounds="${ROUNDS:-3}"
items="${ITEMS:-32}"
parallel="${PARALLEL:-1,4,16}"
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
for model in $models; do
  label="$(basename "$model" .gguf)"
  echo "== $label"
  # Each test alternates harness and raw C for $rounds rounds (repetitions pooled), so drifts of the machine hit both.
  "$harness" bench --model-file "$model" -p 512 -n 128 --parallel "$parallel" -t "$threads" -r "$reps" --rounds "$rounds" \
    --raw "$cache/llama_raw_bench" --suite tasks/sentiment --suite tasks/arith --items "$items" -o "$out/$label" > "$out/$label.log"
  grep -q "native/$variant/libllama.so" "$out/$label/bench.json" || { echo "the harness loaded another libllama than $variant" >&2; exit 1; }
done

echo "== tables"
for model in $models; do cat "$out/$(basename "$model" .gguf)/bench.md"; echo; done | tee "$out/summary.md"
