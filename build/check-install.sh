#!/usr/bin/env bash
# The newcomer's path, checked: packs the library packages into a local feed, then in an empty folder runs the
# README's CPU install lines (the first ```sh block of its "## Library" section) and its library example (the first
# ```csharp block after it) as written, with `dotnet run`. Passes when the example exits 0 and writes its PNG.
# Uses the machine's NuGet cache (only this version of DiffusionKit's own packages is evicted from it first, so the
# fresh packages are the ones restored). Takes about two minutes on 2 cores.
# Usage: build/check-install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
root=$(pwd)
start=$(date +%s)

work=$(mktemp -d -t dk-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
feed="$work/feed"
mkdir -p "$feed"

# 1. The packages the README's CPU lines install (DiffusionKit brings DiffusionKit.Abstractions and, through it, the
#    native-free DiffusionKit.Pipeline.Abstractions; DiffusionKit.Demo holds the shapes data set the example trains on).
for project in src/DiffusionKit.Pipeline.Abstractions src/DiffusionKit.Abstractions src/DiffusionKit src/DiffusionKit.Demo; do
  dotnet pack "$project" -c Release -o "$feed" -nologo -v q
done
version=$(dotnet msbuild src/DiffusionKit -getProperty:Version | tail -n 1)
packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
for id in diffusionkit diffusionkit.abstractions diffusionkit.pipeline.abstractions diffusionkit.demo; do
  rm -rf "${packages:?}/$id/$version"
done

# 2. A nuget.config that takes DiffusionKit* from the local feed and everything else from the usual source.
cat > "$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="DiffusionKit" /><package pattern="DiffusionKit.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF

# 3. The README's lines, as written.
section=$(awk '/^## /{ in_section = ($0 == "## Library") } in_section' README.md)
install=$(echo "$section" | awk '/^```sh$/{ if (!done) { on = 1; next } } /^```$/{ if (on) { on = 0; done = 1 } } on')
example=$(echo "$section" | awk '/^```csharp$/{ if (!done) { on = 1; next } } /^```$/{ if (on) { on = 0; done = 1 } } on')
[ -n "$install" ] && [ -n "$example" ] || { echo "README.md has no '## Library' section with a sh and a csharp block" >&2; exit 1; }
echo "--- install lines (README.md) ---"
echo "$install"
cd "$work"
bash -euo pipefail -c "$install"
# The install lines end inside the new project folder (dotnet new console -o X && cd X).
app=$(find "$work" -mindepth 2 -maxdepth 2 -name '*.csproj' ! -path "$feed/*" | head -n 1)
[ -n "$app" ] || { echo "the install lines created no project" >&2; exit 1; }
cd "$(dirname "$app")"
grep -q 'Include="DiffusionKit" Version="'"$version"'"' "$app" || { echo "DiffusionKit $version was not the package added:" >&2; cat "$app" >&2; exit 1; }
echo "$example" > Program.cs

# 4. Run it.
echo "--- dotnet run ---"
dotnet run -c Release
png=$(find . -maxdepth 1 -name '*.png' | head -n 1)
[ -n "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "the example wrote no PNG" >&2; exit 1; }
echo "check-install: the README's install lines and library example work from packages ($(( $(date +%s) - start )) s, wrote $png)"
cd "$root"
