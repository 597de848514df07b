#!/usr/bin/env bash
# Builds llama.cpp's llama-server from the source that node-llama-cpp carries (llama/gitRelease.bundle, a git bundle of
# llama.cpp) and prints the binary's path. The OpenAI-compatible backend's integration tests run against it.
# The build (~15 min on 2 cores) is cached per llama.cpp commit under $HARNESS_CI_CACHE (default ~/.cache/harness-ci)
# and reused while the binary is there; a missing binary is rebuilt.
# Usage: .ci/llama-server.sh [path/to/gitRelease.bundle]   (progress on stderr, the binary's path on stdout)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-tests/crosscheck/node_modules/node-llama-cpp/llama/gitRelease.bundle}
[ -f "$bundle" ] || { echo "llama-server.sh: $bundle not found (npm install in tests/crosscheck first)" >&2; exit 1; }
commit=$(git bundle list-heads "$bundle" | awk '$2 == "HEAD" { print $1 }')
[ -n "$commit" ] || { echo "llama-server.sh: $bundle has no HEAD" >&2; exit 1; }
cache=${HARNESS_CI_CACHE:-$HOME/.cache/harness-ci}/llama-server-${commit:0:12}
binary=$cache/build/bin/llama-server
if [ ! -x "$binary" ]; then
  echo "llama-server.sh: building llama-server at llama.cpp ${commit:0:12} into $cache (about 15 min on 2 cores)" >&2
  command -v cmake >/dev/null && command -v g++ >/dev/null || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends cmake g++ make >/dev/null; }
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
  git clone -q "$bundle" "$cache.tmp/src"
  git -C "$cache.tmp/src" checkout -q "$commit"
  # CPU only, no libcurl (no model downloads), static so the binary does not depend on the build tree's libraries.
  cmake -S "$cache.tmp/src" -B "$cache.tmp/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DGGML_NATIVE=OFF >&2
  cmake --build "$cache.tmp/build" --target llama-server -j "$(nproc)" >&2
  "$cache.tmp/build/bin/llama-server" --version >&2
  mkdir -p "$cache/build/bin" && cp "$cache.tmp/build/bin/llama-server" "$binary.tmp" && mv "$binary.tmp" "$binary"
  rm -rf "$cache.tmp"
fi
echo "$binary"
