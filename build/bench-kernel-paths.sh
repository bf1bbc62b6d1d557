#!/usr/bin/env bash
# Issue 19's training bar on the CPU this runs on: 200-step `train` runs at widths 8, 16, 32 and 48 with the default
# precision and threads, and widths 8, 16 and 32 with ONEDNN_MAX_CPU_ISA=AVX2 and with --threads 1 (each set before the
# process starts). Prints one line per run: the configuration, the exit code, the last loss and the kernel routes the
# check chose (from its warnings). About 6 minutes on 2 cores. Logs go to artifacts/kernel-paths.
#
# Usage: build/bench-kernel-paths.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/kernel-paths
rm -rf "$out"
mkdir -p "$out"
dotnet build src/DiffusionKit.Cli -c Release -nologo -v q >/dev/null || exit 1
echo "## $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), family $(lscpu | sed -n 's/^CPU family: *//p' | head -n 1), $(nproc) cores"

run() { # label, features, env..., -- extra args
  local label=$1 features=$2; shift 2
  local envs=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  local log="$out/${label// /_}-n$features.log"
  env "${envs[@]}" dotnet src/DiffusionKit.Cli/bin/Release/net10.0/DiffusionKit.Cli.dll train --out "$out/ckpt" --steps 200 \
    --features "$features" --count 2000 "${args[@]}" >"$log" 2>&1
  local code=$?
  local loss; loss=$(tr '\r' '\n' <"$log" | grep -oE 'step 200 loss [0-9.NaInf]+' | tail -n 1 | awk '{print $4}')
  local routes; routes=$(grep -oE 'in (float32|bfloat16) with|using the [a-z-]+|bfloat16 is not usable' "$log" | sed 's/ with$/:/; s/^using the //' | paste -sd ' ' -)
  local precision; precision=$(grep -oE 'precision auto: [a-z0-9]+' "$log" | head -n 1)
  printf '%-28s n_feat %-3s exit %-3s loss %-8s %s %s\n' "$label" "$features" "$code" "${loss:-none}" "${precision:-}" "${routes:-native kernels passed}"
}

for f in 8 16 32 48; do run "default" "$f" X=1; done
for f in 8 16 32; do run "ONEDNN_MAX_CPU_ISA=AVX2" "$f" ONEDNN_MAX_CPU_ISA=AVX2; done
for f in 8 16 32; do run "threads 1" "$f" X=1 -- --threads 1; done
