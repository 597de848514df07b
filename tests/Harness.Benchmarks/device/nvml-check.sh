#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: what the driver reports for power and the energy counter, to set beside the
# harness's NVML meter. total_energy_consumption is the counter NvmlMeter reads (mJ since driver load, "[N/A]" before
# Volta); some nvidia-smi versions reject that field although NVML has it, hence the second query without it.
#   usage: tests/Harness.Benchmarks/device/nvml-check.sh
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "nvidia-smi not found: no NVIDIA driver on this machine" >&2
  exit 1
fi
nvidia-smi --query-gpu=index,name,driver_version,power.draw,power.limit,total_energy_consumption \
  --format=csv 2>/dev/null \
  || nvidia-smi --query-gpu=index,name,driver_version,power.draw,power.limit --format=csv
