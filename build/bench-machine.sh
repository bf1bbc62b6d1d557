#!/usr/bin/env bash
# Issue 9 (same result on every machine) on the CPU this runs on, in one command (2 minutes on 2 AMD cores): the CPU
# model and the flags that decide bf16's speed, the fp32 FMA peak, the trainer against the plain hand-written loop,
# fp32 / bf16 / auto on the demo's network (training and the demo's sampling job, with the batched-vs-alone pixel
# check), and the oneDNN kernels each precision runs (summarised by build/research/onednn_summary.py). On a CPU with AMX
# it also times bf16 with AMX kept out (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16), the test of the AMX guess in
# docs/benchmarks.md.
# DEMO=1 also times the README's first command (about 6-9 min on 2 cores). Logs go to artifacts/bench-machine.
#
# Usage: build/bench-machine.sh            (env: DEMO=1, THREADS=<libtorch threads, default every core>)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out=artifacts/bench-machine
rm -rf "$out"
mkdir -p "$out"
threads=${THREADS:-$(nproc)}
dotnet build src/DiffusionKit.Cli -c Release -nologo -v q >/dev/null
dk() { dotnet src/DiffusionKit.Cli/bin/Release/net10.0/DiffusionKit.Cli.dll "$@" --threads "$threads"; }

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { case " $flags " in *" $1 "*) echo yes ;; *) echo no ;; esac; }
echo "## $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $threads threads"
echo "avx512f $(has avx512f), avx512_bf16 $(has avx512_bf16), avx512_fp16 $(has avx512_fp16), amx_bf16 $(has amx_bf16)"

echo "### Peak and the course network's fp32 trainer against the plain loop (n_feat 64, batch 100)"
dk bench --train-steps 40 --skip-sample --plain-baseline | grep -E '^(peak|train):'

echo "### The demo's network (n_feat 32, batch 50): training in each precision"
for precision in fp32 bf16 auto; do
  dk bench --features 32 --batch 50 --train-steps 40 --skip-sample --skip-peak --precision "$precision" \
    | grep -E '^train: [A-Z]|^precision auto' | sed "s/^/$precision: /"
done

echo "### The demo's sampling job (48 prompts x 4, SDE-DPM-Solver++ 20 steps, guidance 3, batch of 192) in each precision"
for precision in fp32 bf16 auto; do
  dk bench --batched-sampling --features 32 --max-batch 192 --alone-checks 8 --skip-peak --precision "$precision" \
    | grep -E '^batched sampling: (pipeline|largest)|^precision auto' | sed "s/^/$precision: /"
done

echo "### oneDNN kernels (16 images x 100 DDIM steps, n_feat 64)"
for precision in bf16 fp32; do
  ONEDNN_VERBOSE=1 dk bench --skip-train --skip-peak --sample-images 16 --sample-steps 100 --precision "$precision" \
    > "$out/onednn-$precision.log"
done
python3 build/research/onednn_summary.py "$out/onednn-bf16.log" "$out/onednn-fp32.log"

if [ "$(has amx_bf16)" = yes ]; then
  echo "### bf16 with AMX kept out (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16)"
  ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 dk bench --features 32 --batch 50 --train-steps 40 --skip-sample --skip-peak \
    --precision bf16 | grep -E '^train: [A-Z]'
  ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 dk bench --batched-sampling --features 32 --max-batch 192 --alone-checks 0 \
    --skip-peak --precision bf16 | grep -E '^batched sampling: pipeline'
fi

if [ "${DEMO:-0}" = 1 ]; then
  echo "### The README's first command (build up to date)"
  start=$(date +%s)
  dotnet run --project src/DiffusionKit.Cli -c Release -- demo --out "$out/demo-output" --threads "$threads" \
    | tr '\r' '\n' | grep -E '^precision auto|images in|adherence over|^demo finished'
  echo "wall time: $(( $(date +%s) - start )) s"
fi
