#!/usr/bin/env bash
# The one entry point: build | test | run -- ARGS | publish [RID...] | bench [fleet] [--quick]
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  cat <<'USAGE'
usage: ./build.sh COMMAND

  build              compile everything (Release), warnings are errors
  test               publish the Native-AOT binary, then run every test (the binary's too)
  run -- ARGS        build and run the proxy with ARGS, e.g. ./build.sh run -- --proxy llama3.2=http://127.0.0.1:11435
  publish [RID...]   one artifact per RID under artifacts/RID (default: this machine), checksums in
                     artifacts/SHA256SUMS; linux-x64, linux-arm64: Native-AOT single-file binary
                     (arm64 from x64 with clang + lld and the arm64 cross packages, installed with
                     apt-get when missing and allowed); linux-riscv64, linux-s390x, linux-ppc64le:
                     framework-dependent gollamas.dll and a 'gollamas' launcher (needs the .NET 10
                     and ASP.NET Core 10 runtimes there)
  bench [--quick]    load run: direct vs nginx vs the AOT binary; table on stdout, JSON in artifacts/bench
                     (installs nginx and wrk with apt-get when missing and allowed; --quick: short smoke run)
  bench fleet [--quick] [OPTIONS]
                     the seeded workload on a simulated Ollama fleet (3 servers of 24 GB, 6 models,
                     24 users, 60 simulated s, seeds 1,2,3) through Gollamas, nginx round-robin,
                     nginx least_conn and one model per server; table on stdout, JSON in
                     artifacts/bench/fleet. About 4-5 minutes on a 2-core machine; --quick (one
                     seed, 30 s) about 30 s; publishing the binary first, when src/ changed,
                     about 1 minute more. OPTIONS: --seeds 1,2,3 --users N --duration 60s
                     --scenario default|light|overfull --scale 5 --setups gollamas,nginx-rr,...

exit status 69 (EX_UNAVAILABLE): a tool or package the command needs is missing and could not be
installed; the last line on stderr names it.
USAGE
}

die() { echo "build.sh: $*" >&2; exit 1; }

# A missing tool or package, told apart from a failed build so that CI can skip what needs it.
unavailable() { echo "build.sh: $*" >&2; exit 69; }

need_dotnet() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK is missing: install it (https://dot.net) so that 'dotnet' is on PATH"
}

need_native_toolchain() {
  # Native AOT links with the platform C toolchain.
  if ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
    unavailable "Native AOT needs a C toolchain to link: install clang (Debian/Ubuntu: apt-get install clang zlib1g-dev)"
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

# Native AOT for these; the feed serves no AOT (nor apphost) packs for the others.
AOT_RIDS="linux-x64 linux-arm64"
FDD_RIDS="linux-riscv64 linux-s390x linux-ppc64le"

# Installs the Debian/Ubuntu packages named when running as root with apt-get; otherwise fails
# with one line naming them.
need_packages() {
  [ $# -eq 0 ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "build.sh: installing $* with apt-get" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2 \
      || unavailable "could not install $* (apt-get install $* failed)"
  else
    unavailable "missing package(s) for this build: $* (install them: apt-get install $*)"
  fi
}

# The dashboard's browser tests (tests/Gollamas.Tests/Browser) drive Debian's Chromium through
# its ChromeDriver: installed when missing and allowed; otherwise those tests are reported skipped.
browser_tools() {
  command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "build.sh: installing chromium chromium-driver with apt-get (for the browser tests)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; } >/dev/null 2>&1 \
      || echo "build.sh: could not install chromium chromium-driver; the browser tests will be skipped" >&2
  else
    echo "build.sh: no chromium and chromedriver here (apt-get install chromium chromium-driver, as root); the browser tests will be skipped" >&2
  fi
}

# The arm64 cross link on an x64 machine: clang + lld, Debian's arm64 glibc and libgcc cross
# packages, and llvm-objcopy to strip (GNU objcopy cannot read aarch64 ELF).
need_arm64_cross() {
  local missing=()
  command -v clang >/dev/null 2>&1 || missing+=(clang)
  command -v ld.lld >/dev/null 2>&1 || missing+=(lld)
  command -v llvm-objcopy >/dev/null 2>&1 || missing+=(llvm)
  [ -e /usr/aarch64-linux-gnu/lib/libc.so ] || missing+=(libc6-dev-arm64-cross)
  if ! compgen -G '/usr/lib/gcc-cross/aarch64-linux-gnu/*/libgcc.a' >/dev/null; then
    # The distribution's GCC version: libgcc-12-dev-arm64-cross on Debian 12.
    local libgcc=""
    command -v apt-cache >/dev/null 2>&1 && libgcc=$(apt-cache search --names-only '^libgcc-[0-9]+-dev-arm64-cross$' 2>/dev/null | cut -d' ' -f1 | sort -V | tail -n1)
    missing+=("${libgcc:-libgcc-12-dev-arm64-cross}")
  fi
  need_packages "${missing[@]}"
}

# artifacts/SHA256SUMS: one line per artifact's main file, paths relative to artifacts/;
# the line of the artifact just published replaces its old one.
update_sums() {
  local file="$1"   # relative to artifacts/
  local sums=artifacts/SHA256SUMS tmp
  tmp="$(mktemp)"
  if [ -f "$sums" ]; then
    awk -v f="$file" '{ p = $2; sub(/^\*/, "", p); if (p != f) print }' "$sums" >"$tmp"
  fi
  (cd artifacts && sha256sum "$file") >>"$tmp"
  sort -k2 "$tmp" >"$sums"
  rm -f "$tmp"
}

# One RID; prints the path of what runs (the binary, or the launcher) on stdout.
publish_rid() {
  local rid="$1" out="artifacts/$1"
  case " $AOT_RIDS " in
    *" $rid "*)
      need_native_toolchain
      local cross=()
      if [ "$rid" = linux-arm64 ] && [ "$(host_rid)" != linux-arm64 ]; then
        need_arm64_cross
        cross=(-p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld)
      elif [ "$rid" != "$(host_rid)" ]; then
        die "Native-AOT cross builds go from linux-x64 to linux-arm64 only, not from $(host_rid) to $rid"
      fi
      dotnet publish src/Gollamas/Gollamas.csproj -c Release -r "$rid" -o "$out" \
        -p:SourceRevisionId="$(commit)" "${cross[@]}" -nologo -clp:NoSummary >&2
      rm -f "$out"/*.dbg
      update_sums "$rid/gollamas"
      echo "$out/gollamas"
      ;;
    *)
      case " $FDD_RIDS " in *" $rid "*) ;; *) die "unknown RID $rid (one of: $AOT_RIDS $FDD_RIDS)" ;; esac
      # Framework-dependent: runs with the .NET 10 and ASP.NET Core 10 runtimes of that machine.
      # With IsAotCompatible or PublishTrimmed left on, restore asks for the RID's runtime packs,
      # which the feed does not serve; the AOT builds run the trim and AOT analyzers anyway.
      dotnet publish src/Gollamas/Gollamas.csproj -c Release -r "$rid" -o "$out" \
        --self-contained false -p:PublishAot=false -p:PublishTrimmed=false -p:IsAotCompatible=false -p:UseAppHost=false \
        -p:SourceRevisionId="$(commit)" -nologo -clp:NoSummary >&2
      rm -f "$out"/*.pdb
      printf '%s\n' '#!/bin/sh' 'exec dotnet "$(dirname "$0")/gollamas.dll" "$@"' >"$out/gollamas"
      chmod +x "$out/gollamas"
      update_sums "$rid/gollamas.dll"
      echo "$out/gollamas"
      ;;
  esac
}

# publish [RID...]: default this machine's RID; the last line on stdout is the last path published.
publish() {
  need_dotnet
  [ $# -eq 0 ] && set -- "$(host_rid)"
  local rid
  for rid in "$@"; do
    publish_rid "$rid"
  done
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
  if [ "${1:-}" = fleet ]; then
    shift
    bench_fleet "$@"
    return
  fi
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
  run_bench load --proxy-binary "$binary" --nginx "$nginx" --wrk "$wrk" \
    --assets tests/Gollamas.Bench/bench --out artifacts/bench "$@"
}

# bench fleet: the published binary (published again when anything under src/ is newer), nginx.
bench_fleet() {
  local binary
  binary="artifacts/$(host_rid)/gollamas"
  if [ ! -x "$binary" ] || [ -n "$(find src \( -name bin -o -name obj \) -prune -o -type f -newer "$binary" -print -quit)" ]; then
    binary="$(publish)"
  fi
  dotnet build tests/Gollamas.Bench/Gollamas.Bench.csproj -c Release -nologo -v quiet -clp:NoSummary >&2
  bench_tools
  local nginx=none
  if command -v nginx >/dev/null 2>&1; then nginx="$(command -v nginx)"; elif [ -x /usr/sbin/nginx ]; then nginx=/usr/sbin/nginx; fi
  run_bench fleet --proxy-binary "$binary" --nginx "$nginx" \
    --assets tests/Gollamas.Bench/bench --out artifacts/bench/fleet "$@"
}

# Runs Gollamas.Bench with ARGS in its own process group, so the trap stops the run and every
# server it started, even on failure.
run_bench() {
  setsid dotnet tests/Gollamas.Bench/bin/Release/net10.0/Gollamas.Bench.dll "$@" &
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
    browser_tools
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
