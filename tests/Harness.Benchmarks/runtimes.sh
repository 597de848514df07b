#!/usr/bin/env bash
# The same weights through three runtimes (docs/backends.md): llama.cpp in the harness's worker (llamacpp), llama.cpp's
# llama-server over its OpenAI-compatible API (openai) and the ONNX export through ONNX Runtime GenAI (onnx-genai).
# For each model it exports the ONNX folder (harness forge onnx), starts llama-server on a free loopback port, writes
# one manifest with the three entries and runs one `harness compare` (base: the llamacpp entry) on the shipped suites,
# then prints one Markdown table from the compare reports: pass rate and flips per suite, p50 latency, TTFT, prompt and
# generation tokens/s. Every runtime answers one request at a time (parallel: 1, max_concurrency 1), so latencies are
# per request, not shares of a batch. Timings are evidence only on an idle machine.
#
# usage: tests/Harness.Benchmarks/runtimes.sh [WORK_DIR]      (default .cache/runtimes)
#   HARNESS_LLAMA_SERVER  the llama-server binary (default: what .ci/llama-server.sh builds or finds cached)
#   HARNESS_SHARED_MODELS the folder holding stories260K.gguf (default ../shared/models)
set -euo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mkdir -p "${1:-$root/.cache/runtimes}" && cd "${1:-$root/.cache/runtimes}" && pwd)
server=${HARNESS_LLAMA_SERVER:-$("$root/.ci/llama-server.sh")}
shared=${HARNESS_SHARED_MODELS:-$root/../shared/models}
dotnet build -c Release "$root/src/Harness.Cli" -v quiet -nologo >&2
harness() { dotnet "$root/src/Harness.Cli/bin/Release/net10.0/harness.dll" "$@"; }

# name, GGUF, context size (the one each model was trained with, as models.manifest gives it)
models=("tiny-arith-xs-f16 $root/models/tiny-arith-xs-f16.gguf 128"
        "tiny-multi-s-f16 $root/models/tiny-multi-s-f16.gguf 512"
        "stories260k $shared/stories260K.gguf 512")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

runs=()
for spec in "${models[@]}"; do
  read -r name gguf context <<<"$spec"
  [[ -f "$gguf" ]] || { echo "runtimes.sh: $gguf not found" >&2; exit 1; }
  harness forge onnx "$gguf" --output "$work/$name-onnx" >&2
  port=$(free_port)
  "$server" -m "$gguf" --alias "$name" -c "$context" -np 1 -t 2 --host 127.0.0.1 --port "$port" >"$work/$name-server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
  cat >"$work/$name.manifest" <<YAML
version: 1
defaults: { context_size: $context, threads: 2, batch_size: 512, gpu_layers: 0, chat_template: none, parallel: 1 }
models:
  - { id: $name-llamacpp, path: "$gguf" }
  - { id: $name-onnx, path: "$work/$name-onnx", format: onnx }
  - id: $name-server
    backend: { kind: openai, endpoint: "http://127.0.0.1:$port/v1", model: $name }
YAML
  harness compare --models "$work/$name.manifest" --base "$name-llamacpp" --candidates "$name-onnx,$name-server" \
    --tasks "$root/tasks" --results "$work/results" --idle-baseline 0 --json >"$work/$name.json"
  runs+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runDirectory"])' "$work/$name.json")")
done

python3 - "${runs[@]}" <<'PY'
import json, sys
print("| model | runtime | " + " | ".join(["pass rate (flips vs llamacpp) per suite", "p50 latency ms", "TTFT p50 ms", "prompt tok/s", "gen tok/s"]) + " |")
print("|---|---|---|---|---|---|---|")
for run in sys.argv[1:]:
    r = json.load(open(f"{run}/report.json"))
    comparison = r["comparison"]
    base = comparison["baseModelId"]
    cands = {c["modelId"]: c for c in comparison["candidates"]}
    first = next(iter(cands.values()))["cost"]
    for model in [base, *cands]:
        suites = []
        for s in r["fixedSuites"] + r.get("openSuites", []):
            row = next((x for x in s["rows"] if x["modelId"] == model), None)
            if row is None:
                continue
            rate = row["verdict"]["passRate"]["rate"] if "verdict" in row else row["score"]["mean"]
            flips = "" if model == base else next(f for f in cands[model]["flips"] if f["suite"] == s["suite"])["flipped"]
            suites.append(f"{s['suite']} {rate:.3f}" + ("" if model == base else f" ({flips})"))
        cost = first if model == base else cands[model]["cost"]
        side = "base" if model == base else "candidate"
        def fig(key, fmt):
            v = cost.get(f"{side}{key}")
            return "–" if v is None else format(v, fmt)
        print(f"| {model.rsplit('-', 1)[0]} | {model.rsplit('-', 1)[1]} | {', '.join(suites)} | {fig('P50Latency', '.2f')} | "
              f"{fig('P50TimeToFirstToken', '.2f')} | {fig('PromptTokensPerSecond', ',.0f')} | {fig('GenerationTokensPerSecond', ',.0f')} |")
    print(f"<!-- run {r['runId']} -->")
PY
