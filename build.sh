#!/usr/bin/env bash
# The one entry point: build | test | run -- ARGS | publish [RID]
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  cat <<'USAGE'
usage: ./build.sh COMMAND

  build              compile everything (Release), warnings are errors
  test               publish the Native-AOT binary, then run every test (the binary's too)
  run -- ARGS        build and run the proxy with ARGS, e.g. ./build.sh run -- --proxy llama3.2=http://127.0.0.1:11435
  publish [RID]      Native-AOT single-file binary under artifacts/RID (default: this machine, linux-x64)
USAGE
}

die() { echo "build.sh: $*" >&2; exit 1; }

need_dotnet() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK is missing: install it (https://dot.net) so that 'dotnet' is on PATH"
}

need_native_toolchain() {
  # Native AOT links with the platform C toolchain.
  if ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    die "Native AOT needs a C toolchain to link: install clang (Debian/Ubuntu: apt-get install clang zlib1g-dev)"
  fi
}

host_rid() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64|arm64) echo linux-arm64 ;;
    *) die "no Native-AOT build for $(uname -m) here" ;;
  esac
}

commit() { git rev-parse --short=12 HEAD 2>/dev/null || echo unknown; }

publish() {
  local rid="${1:-$(host_rid)}"
  need_dotnet
  need_native_toolchain
  local out="artifacts/$rid"
  dotnet publish src/Gollamas/Gollamas.csproj -c Release -r "$rid" -o "$out" \
    -p:SourceRevisionId="$(commit)" -nologo -clp:NoSummary >&2
  rm -f "$out"/*.dbg
  echo "$out/gollamas"
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  build)
    need_dotnet
    dotnet build Gollamas.sln -c Release -nologo
    ;;
  test)
    need_dotnet
    binary="$(publish)"
    export GOLLAMAS_BINARY="$PWD/$binary"
    dotnet test Gollamas.sln -c Release -nologo \
      --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
      --results-directory artifacts/test-results "$@"
    ;;
  run)
    need_dotnet
    [ "${1:-}" = "--" ] && shift
    dotnet build src/Gollamas/Gollamas.csproj -c Release -nologo -v quiet -clp:NoSummary >&2
    exec dotnet src/Gollamas/bin/Release/net10.0/gollamas.dll "$@"
    ;;
  publish)
    publish "$@"
    ;;
  ""|-h|--help|help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
