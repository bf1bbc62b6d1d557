#!/usr/bin/env bash
# Load benchmark of the sample server (issue 11): trains a checkpoint shaped like the one the README's `demo` writes
# (n_feat 32, 16x16, bag-of-words; FEATURES=64 for the course's width; two training steps, since only speed and memory
# are measured) unless CHECKPOINT names one, starts samples/DiffusionKit.Server on
# 127.0.0.1, drives it with build/BenchServe at several concurrency levels (one image per request, DDIM 25 steps by
# default, guidance 3; each level after untimed warm-up requests at its concurrency), then 1,000 sequential requests for
# the RSS drift, and prints a Markdown report for docs/benchmarks.md.
#
# Usage: build/bench-serve.sh                      (env: CHECKPOINT, FEATURES=32, PORT=5080, LEVELS=1,8,16,32, REQUESTS=96,
#                                                   SEQUENTIAL=1000, SEQUENTIAL_STEPS=5, STEPS=25, GUIDANCE=3, SAMPLER=ddim,
#                                                   WARMUP=<requests per level, default 2 x concurrency, at least 16>,
#                                                   SERVER_ARGS="--DiffusionKit:Threads=2 ...")
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out=artifacts/bench-serve
mkdir -p "$out"
port=${PORT:-5080}
threads=$(nproc)

dotnet build samples/DiffusionKit.Server -c Release -nologo -v q >/dev/null
dotnet build build/BenchServe -c Release -nologo -v q >/dev/null

features=${FEATURES:-32}
checkpoint=${CHECKPOINT:-$out/checkpoint-n$features}
if [ ! -f "$checkpoint/config.json" ] && [ ! -f "$checkpoint/latest" ]; then
  echo "training an n_feat $features checkpoint into $checkpoint (speed only: 2 training steps)" >&2
  dotnet build src/DiffusionKit.Cli -c Release -nologo -v q >/dev/null
  dotnet src/DiffusionKit.Cli/bin/Release/net10.0/DiffusionKit.Cli.dll train --out "$checkpoint" --steps 2 --batch 8 \
    --count 64 --features "$features" --seed 1 --threads "$threads" >&2
fi

dotnet samples/DiffusionKit.Server/bin/Release/net10.0/DiffusionKit.Server.dll --urls "http://127.0.0.1:$port" \
  "--DiffusionKit:CheckpointPath=$checkpoint" "--DiffusionKit:Sampler=${SAMPLER:-ddim}" "--DiffusionKit:Steps=${STEPS:-25}" \
  "--DiffusionKit:GuidanceScale=${GUIDANCE:-3}" \
  "--DiffusionKit:Threads=$threads" "--Logging:LogLevel:Default=Warning" ${SERVER_ARGS:-} >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 1 240); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "the server exited:" >&2; cat "$out/server.log" >&2; exit 1; fi
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server did not become healthy" >&2; exit 1; }

# The checkpoint's network width and image size, from its config.json (a checkpoint folder or its current step).
model_size() {
  local dir=$1
  [ -f "$dir/latest" ] && dir="$dir/$(cat "$dir/latest")"
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["model"]; print("n_feat %d, %dx%d" % (m["n_feat"], m["height"], m["height"]))' \
    "$dir/config.json" 2>/dev/null || echo "model size unknown"
}

{
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%d); commit $(git rev-parse --short HEAD)"
  echo "Checkpoint: $checkpoint ($(model_size "$checkpoint"))"
  echo "Server: ${SAMPLER:-ddim} ${STEPS:-25} steps, guidance ${GUIDANCE:-3}, one image per request, ${SERVER_ARGS:-default pipeline options}"
  echo
  dotnet build/BenchServe/bin/Release/net10.0/BenchServe.dll --url "http://127.0.0.1:$port" --pid "$server" \
    --levels "${LEVELS:-1,8,16,32}" --requests "${REQUESTS:-96}" --sequential "${SEQUENTIAL:-1000}" --sequential-steps "${SEQUENTIAL_STEPS:-5}" ${WARMUP:+--warmup "$WARMUP"}
} | tee "$out/report.md"
