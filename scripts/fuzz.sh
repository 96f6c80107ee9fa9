#!/usr/bin/env bash
# Fuzzes the input readers with libFuzzer + AddressSanitizer/LeakSanitizer + UBSan: the data CSV
# readers, the TOML study loader, the claims file reader, the sweep engine's checkpoint reader and
# every study's per-cell checkpoint validator (tests/fuzz/fuzz_*.cpp).
#
#   scripts/fuzz.sh [--runs N] [--time S] [--corpus-only] [--only NAME]
#
#   --runs N        executions per harness (default 100000)
#   --time S        stop each harness after S seconds instead (with --runs too: whichever first)
#   --corpus-only   only replay the seed corpus (libFuzzer -runs=0)
#   --only NAME     run one harness (data_csv, settings_toml, claims_toml, checkpoint, cell_<study>)
#
# Installs what is missing (clang, its runtime libraries, libomp), configures build-fuzz with
# clang and -DATTNRATE_FUZZ=ON, builds the fuzz targets only and runs each over a scratch copy of
# tests/fuzz/corpus/<name> (new inputs never go into the repository). Crash, leak, UB and
# timeout reproducers go to build-fuzz/fuzz-artifacts/<name>/; each harness's log to
# build-fuzz/fuzz-logs/<name>.log. The build and the harnesses run under nice, the build as a single
# job (ATTNRATE_FUZZ_JOBS to change), so fuzzing does not crowd out other work on the machine. Exit status: 0 if no harness found anything, 1 otherwise,
# 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=100000
TIME=""
CORPUS_ONLY=0
ONLY=""
RUNS_GIVEN=0
usage() { sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; RUNS=$2; RUNS_GIVEN=1; shift 2 ;;
    --time) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || usage; TIME=$2; shift 2 ;;
    --corpus-only) CORPUS_ONLY=1; shift ;;
    --only) [[ $# -ge 2 ]] || usage; ONLY=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
# --time alone means "for S seconds", not "for S seconds or 100000 runs".
[[ -n "$TIME" && $RUNS_GIVEN -eq 0 ]] && RUNS=-1

./scripts/install-deps.sh clang libclang-rt-14-dev libomp-14-dev

BUILD=build-fuzz
cmake -S . -B "$BUILD" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DATTNRATE_FUZZ=ON -DATTNRATE_BUILD_TESTS=OFF -DATTNRATE_BUILD_BENCH=OFF -DATTNRATE_MPI=OFF >/dev/null

names=()
for src in tests/fuzz/fuzz_*.cpp; do
  n=$(basename "$src" .cpp)
  n=${n#fuzz_}
  [[ -z "$ONLY" || "$ONLY" == "$n" ]] && names+=("$n")
done
if [[ ${#names[@]} -eq 0 ]]; then
  echo "fuzz.sh: no harness named '$ONLY' (tests/fuzz/fuzz_<name>.cpp)" >&2
  exit 2
fi
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
nice -n 19 cmake --build "$BUILD" --parallel "${ATTNRATE_FUZZ_JOBS:-1}" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Scratch files of the harnesses (one directory per process) on tmpfs when there is one.
SCRATCH=$(mktemp -d -p "$([[ -w /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")" attnrate-fuzz.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
export TMPDIR=$SCRATCH
mkdir -p "$BUILD/fuzz-logs"

failed=0
for n in "${names[@]}"; do
  corpus="$SCRATCH/corpus-$n"
  artifacts="$BUILD/fuzz-artifacts/$n"
  log="$BUILD/fuzz-logs/$n.log"
  mkdir -p "$artifacts"
  cp -r "tests/fuzz/corpus/$n" "$corpus"
  args=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 "-artifact_prefix=$artifacts/")
  if [[ $CORPUS_ONLY -eq 1 ]]; then
    args+=(-runs=0)
  else
    args+=("-runs=$RUNS")
    [[ -n "$TIME" ]] && args+=("-max_total_time=$TIME")
    [[ -f "tests/fuzz/$n.dict" ]] && args+=("-dict=tests/fuzz/$n.dict")
  fi
  seeds=$(find "$corpus" -type f | wc -l)
  start=$(date +%s%N)
  rc=0
  nice -n 19 "$BUILD/fuzz_$n" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  after=$(find "$corpus" -type f | wc -l)
  if [[ $rc -eq 0 ]]; then
    printf 'fuzz %-14s ok: %s executions in %s s, corpus %d -> %d inputs\n' "$n" "${execs:-?}" "$seconds" "$seeds" "$after"
  else
    failed=1
    printf 'fuzz %-14s FAILED (exit %d) after %s s: see %s, reproducer in %s\n' "$n" "$rc" "$seconds" "$log" "$artifacts" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz harness:|artifact_prefix|Test unit written)' "$log" | head -8 >&2 || true
  fi
done
exit $failed
