#!/usr/bin/env bash
# Packs every packable project of the solution into artifacts/packages and checks each package:
#   - at most 250 MiB (nuget.org's limit);
#   - repository URL, project URL, licence and README in the .nuspec; the URL is Directory.Build.props' one;
#   - the packed README has only absolute links (no {repo} placeholder, no relative docs/ links);
#   - a .snupkg beside every package that holds assemblies;
#   - tool packages carry no other platform's natives and none of libtorch's test or Python libraries.
# Prints one line per package (size, checks) and exits non-zero when a check fails.
# Usage: build/pack.sh [extra dotnet pack arguments, e.g. -p:Version=0.2.0]
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
command -v unzip >/dev/null || { echo "pack.sh needs unzip (apt-get install unzip)" >&2; exit 1; }

out="$(pwd)/artifacts/packages"
rm -rf "$out"
mkdir -p "$out"
dotnet pack DiffusionKit.sln -c Release -o "$out" -nologo "$@" || { echo "dotnet pack failed" >&2; exit 1; }

url=$(dotnet msbuild src/DiffusionKit -getProperty:RepositoryUrl | tail -n 1)
limit=$((250 * 1024 * 1024))
unused='libtorch_python\.so|libjitbackend_test\.so|libtorchbind_test\.so|libbackend_with_compiler\.so|libaoti_custom_ops\.so|libnnapi_backend\.so|libshm\.so'
failed=0
fail() { echo "  FAIL $1: $2"; failed=1; }

shopt -s nullglob
packages=("$out"/*.nupkg)
[ ${#packages[@]} -gt 0 ] || { echo "no packages were written" >&2; exit 1; }
printf '%-52s %10s  %s\n' package "size (MiB)" checks
for pkg in "${packages[@]}"; do
  name=$(basename "$pkg" .nupkg)
  size=$(stat -c %s "$pkg")
  listing=$(unzip -Z1 "$pkg")
  nuspec=$(unzip -p "$pkg" '*.nuspec')
  readme=$(unzip -p "$pkg" README.md 2>/dev/null || true)
  before=$failed

  [ "$size" -le "$limit" ] || fail "$name" "$((size / 1024 / 1024)) MiB is over nuget.org's 250 MiB"
  echo "$nuspec" | grep -q "<repository type=\"git\" url=\"$url\"" || fail "$name" "no <repository url=\"$url\">"
  echo "$nuspec" | grep -q "<projectUrl>$url</projectUrl>" || fail "$name" "no <projectUrl>$url</projectUrl>"
  echo "$nuspec" | grep -q '<license type="expression">' || fail "$name" "no licence expression"
  echo "$nuspec" | grep -q '<readme>README.md</readme>' || fail "$name" "no <readme>"
  [ -n "$readme" ] || fail "$name" "README.md is missing from the package"
  if echo "$readme" | grep -q '{repo}'; then fail "$name" "README still has the {repo} placeholder"; fi
  if echo "$readme" | grep -Eq '\]\((\./|\.\./|docs/|src/)'; then fail "$name" "README has relative links (nuget.org cannot follow them)"; fi
  if echo "$listing" | grep -Eq '\.dll$'; then
    [ -f "$out/$name.snupkg" ] || fail "$name" "no symbol package $name.snupkg"
  fi
  if echo "$nuspec" | grep -q 'packageType name="DotnetTool"'; then
    if echo "$listing" | grep -Eq "$unused"; then fail "$name" "carries libtorch test/Python libraries"; fi
    rid=$(echo "$listing" | sed -n 's#^tools/[^/]*/\([^/]*\)/.*#\1#p' | sort -u | grep -v '^any$' | head -n 1)
    if [ -n "$rid" ] && echo "$listing" | grep -Eq '^tools/.*/runtimes/'; then fail "$name" "carries a runtimes/ folder (other platforms' natives)"; fi
    if [ "${rid%%-*}" = linux ] && echo "$listing" | grep -Eq '\.(dll|dylib)$' && echo "$listing" | grep -Eq '(torch_cpu\.dll|libtorch_cpu\.dylib|onnxruntime\.dll)$'; then
      fail "$name" "a $rid package carries Windows or macOS natives"
    fi
  fi

  status=ok; [ "$failed" -eq "$before" ] || status=FAILED
  printf '%-52s %10s  %s\n' "$name" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')" "$status"
done

if [ "$failed" -ne 0 ]; then
  echo "package checks failed" >&2
  exit 1
fi
echo "all ${#packages[@]} packages pass (repository $url)"
