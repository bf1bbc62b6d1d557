#!/usr/bin/env bash
# Restores, builds and runs every test of the solution in Release, then prints one summary line
# "N passed, N failed, N skipped" computed from the TRX result files. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# TorchSharp 0.107 does not keep a temporary Scalar alive across the native call that reads it, so a garbage collection
# on another thread can free it mid-call ("toFloat at c10/core/Scalar.h:140"; docs/training.md, "A libtorch crash in
# toFloat, explained"). The test host runs many tests in parallel and collects gen0 every few MB; a 256 MB gen0 budget
# makes collections ~25x rarer (measured: 237 vs 9 for the same allocations). DiffusionKit's own hot paths keep their
# Scalars alive (KeptScalars); this narrows the window TorchSharp's internals (Adam, operators) still leave open.
export DOTNET_GCgen0size=${DOTNET_GCgen0size:-0x10000000}

results="$(pwd)/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build DiffusionKit.sln -c Release -nologo || { echo "0 passed, 1 failed"; echo "build failed" >&2; exit 1; }

dotnet test DiffusionKit.sln -c Release --no-build -nologo \
  --logger "trx;LogFilePrefix=results" --logger "console;verbosity=normal" \
  --results-directory "$results"
test_exit=$?

shopt -s nullglob
trx=("$results"/*.trx)
if [ ${#trx[@]} -eq 0 ]; then
  echo "0 passed, 1 failed"
  echo "no TRX results were written (test host crashed?)" >&2
  exit 1
fi

passed=0; failed=0; skipped=0
for f in "${trx[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(get total); executed=$(get executed); p=$(get passed); fl=$(get failed); e=$(get error); to=$(get timeout); ab=$(get aborted)
  passed=$((passed + p))
  failed=$((failed + fl + e + to + ab))
  skipped=$((skipped + total - executed))
done

# Name every failed test and the start of its message just above the summary line, so a CI log that keeps only its
# tail still says what failed.
for f in "${trx[@]}"; do
  awk '
    /<UnitTestResult / && /outcome="Failed"/ { match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); infail = 1 }
    infail && /<Message>/ { msg = $0; sub(/.*<Message>/, "", msg); sub(/<\/Message>.*/, "", msg); print "FAILED " name ": " substr(msg, 1, 600) > "/dev/stderr"; infail = 0 }
    /<\/UnitTestResult>/ { if (infail) print "FAILED " name > "/dev/stderr"; infail = 0 }
  ' "$f"
done

if [ "$test_exit" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
  echo "dotnet test exited with $test_exit" >&2
fi

echo "$passed passed, $failed failed, $skipped skipped"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
