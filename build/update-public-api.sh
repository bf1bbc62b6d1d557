#!/usr/bin/env bash
# Regenerates each library's PublicAPI.Unshipped.txt from its current public API (Microsoft.CodeAnalysis.PublicApiAnalyzers):
# adds missing symbols (RS0016) and drops removed ones (RS0017) with the analyzer's own code fixes, then sorts the lines.
# Run it after changing public API on purpose (and after merging branches that did), review the diff, commit it.
# PublicAPI.Shipped.txt is never touched: at a release, move the Unshipped lines there by hand.
# Usage: build/update-public-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

for unshipped in src/*/PublicAPI.Unshipped.txt; do
  project_dir=$(dirname "$unshipped")
  project=$(ls "$project_dir"/*.csproj)
  # Start from the header only, so removed and renamed symbols do not linger; the fixer re-adds every current one.
  printf '#nullable enable\n' > "$unshipped"
  dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity info -v q
  { head -n 1 "$unshipped"; tail -n +2 "$unshipped" | LC_ALL=C sort -u; } > "$unshipped.tmp" && mv "$unshipped.tmp" "$unshipped"
  echo "$unshipped: $(($(wc -l < "$unshipped") - 1)) symbols"
done
