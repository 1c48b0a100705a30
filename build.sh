#!/usr/bin/env bash
# The one entry point: build | test | run -- ARGS | publish [RID] | bench [--quick]
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  cat <<'USAGE'
usage: ./build.sh COMMAND

  build              compile everything (Release), warnings are errors
  test               publish the Native-AOT binary, then run every test (the binary's too)
  run -- ARGS        build and run the proxy with ARGS, e.g. ./build.sh run -- --proxy llama3.2=http://127.0.0.1:11435
  publish [RID]      Native-AOT single-file binary under artifacts/RID (default: this machine, linux-x64)
  bench [--quick]    load run: direct vs nginx vs the AOT binary; table on stdout, JSON in artifacts/bench
                     (installs nginx and wrk with apt-get when missing and allowed; --quick: short smoke run)
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

# nginx and wrk from the distribution when missing; without them the bench runs what it can.
bench_tools() {
  local missing=()
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ ${#missing[@]} -eq 0 ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "build.sh: installing ${missing[*]} with apt-get" >&2
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2; then
      echo "build.sh: could not install ${missing[*]}; benchmarking without them" >&2
    fi
  else
    echo "build.sh: ${missing[*]} missing and cannot be installed here (needs root and apt-get); benchmarking without them" >&2
  fi
}

bench() {
  need_dotnet
  local binary
  binary="$(publish)"
  dotnet build tests/Gollamas.Bench/Gollamas.Bench.csproj -c Release -nologo -v quiet -clp:NoSummary >&2
  bench_tools
  local nginx=none wrk=none
  if command -v nginx >/dev/null 2>&1; then nginx="$(command -v nginx)"; elif [ -x /usr/sbin/nginx ]; then nginx=/usr/sbin/nginx; fi
  command -v wrk >/dev/null 2>&1 && wrk="$(command -v wrk)"
  # 1000 client streams, their proxied connections and the backend's, all on one machine.
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [ "$(ulimit -n)" -lt 4096 ] && echo "build.sh: only $(ulimit -n) file descriptors; the 1000-stream scenario will fail" >&2
  # Its own process group, so the trap stops the run and every server it started, even on failure.
  setsid dotnet tests/Gollamas.Bench/bin/Release/net10.0/Gollamas.Bench.dll load \
    --proxy-binary "$binary" --nginx "$nginx" --wrk "$wrk" \
    --assets tests/Gollamas.Bench/bench --out artifacts/bench "$@" &
  local pid=$!
  # shellcheck disable=SC2064 # the pid is meant to be fixed now
  trap "kill -TERM $pid 2>/dev/null; sleep 1; kill -KILL -- -$pid 2>/dev/null || true" EXIT INT TERM
  local rc=0
  wait "$pid" || rc=$?
  trap - EXIT INT TERM
  kill -KILL -- "-$pid" 2>/dev/null || true
  return "$rc"
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
  bench)
    bench "$@"
    ;;
  ""|-h|--help|help)
    usage
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
