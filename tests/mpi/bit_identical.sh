#!/usr/bin/env bash
# MPI scale-out: `mpirun -np 2 attnrate study|verify ...` gives exactly the results of
# a single process: summary.json (timing fields removed) and cells.csv (seconds column removed)
# byte for byte, the same checkpoints, the same exit code, output printed once; --resume of a
# single-process run under mpirun recomputes nothing; bad input exits 2 with one message.
# Covers the four cell loops: minimax-rate, an RFA study (run_groups), a pairwise series study
# (run_series) and coercivity (through verify). Usage: bit_identical.sh ATTNRATE MPIEXEC
set -u
bin="$1"
mpiexec="${2:-mpirun}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/../lib/check.sh"  # check, check_summary
# Open MPI refuses root unless told; CI runs as root. Oversubscribe: 2 ranks on any core count.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=("$mpiexec" -np 2 --oversubscribe --bind-to none)

# summary.json without timing fields (one key per line in the pretty-printed file).
summary() { grep -vE '"[A-Za-z_]*seconds": ' "$1/summary.json"; }
# cells.csv without its timing columns ("seconds", "kernel_seconds": wall-clock time per cell).
cells() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /seconds$/) t[i] = 1 }
           { for (i in t) $i = ""; print }' OFS=, "$1/cells.csv"
}
checkpoints() { (cd "$1/cells" && ls); }

# run NAME ARGS...: once as one process (in $tmp/NAME.1), once with mpirun -np 2 (in
# $tmp/NAME.2), same relative --out so the recorded command lines match.
run() {
  local name=$1
  shift
  mkdir -p "$tmp/$name.1" "$tmp/$name.2"
  (cd "$tmp/$name.1" && "$bin" "$@" --out out >stdout 2>stderr)
  echo $? >"$tmp/$name.1/rc"
  (cd "$tmp/$name.2" && "${mpi[@]}" "$bin" "$@" --out out >stdout 2>stderr)
  echo $? >"$tmp/$name.2/rc"
  local a="$tmp/$name.1" b="$tmp/$name.2"
  check "$name: ran under mpirun (stderr: $(head -c 600 "$b/stderr"))" test -f "$b/out/summary.json"
  check "$name: same exit code ($(cat "$a/rc") vs $(cat "$b/rc"))" test "$(cat "$a/rc")" = "$(cat "$b/rc")"
  check "$name: summary.json identical" diff <(summary "$a/out") <(summary "$b/out")
  check "$name: printed once, as by one process" diff "$a/stdout" "$b/stdout"
}

run minimax study minimax-rate --M 500,1000,2000 --seeds 3 --test-pairs 5000 --bootstrap 200 --threads 1
for d in minimax.1 minimax.2; do check "minimax: 9 cells ($d)" test "$(cells "$tmp/$d/out" | wc -l)" -eq 10; done
check "minimax: cells.csv identical" diff <(cells "$tmp/minimax.1/out") <(cells "$tmp/minimax.2/out")
check "minimax: same checkpoints" diff <(checkpoints "$tmp/minimax.1/out") <(checkpoints "$tmp/minimax.2/out")
check "minimax: figure written" test -s "$tmp/minimax.2/out/convergence.png"
check "minimax: rank 0 computed its own 5 of the 9 cells" grep -q "rank 0 of 2, own cells): 5/5 cells" "$tmp/minimax.2/stderr"

run heads study heads --heads 8,16,32 --n 200 --seeds 3 --test-n 10000 --bootstrap 200 --threads 1
check "heads: cells.csv identical" diff <(cells "$tmp/heads.1/out") <(cells "$tmp/heads.2/out")

run rank study rank-condition --d-values 1,2 --M 500 --seeds 3 --test-pairs 5000 --bootstrap 200 --threads 1
check "rank-condition: cells.csv identical" diff <(cells "$tmp/rank.1/out") <(cells "$tmp/rank.2/out")

run verify verify --profile quick --only coercivity.uniform --threads 1
check "verify: report written by rank 0" test -s "$tmp/verify.2/out/report.html"
check "verify: coercivity cells.csv identical" \
  diff <(cells "$tmp/verify.1/out/claims/coercivity.uniform") <(cells "$tmp/verify.2/out/claims/coercivity.uniform")

# --resume under mpirun of a finished single-process run: every cell reused, nothing recomputed.
cp -r "$tmp/minimax.1/out" "$tmp/resumed"
touch -d '2000-01-01' "$tmp/resumed/cells/"*.json
(cd "$tmp" && "${mpi[@]}" "$bin" study minimax-rate --M 500,1000,2000 --seeds 3 --test-pairs 5000 --bootstrap 200 \
  --threads 1 --out resumed --resume >/dev/null 2>&1)
check "resume under mpirun: no checkpoint rewritten" \
  test -z "$(find "$tmp/resumed/cells" -name '*.json' -newermt '2001-01-01')"
check "resume under mpirun: cells.csv identical" diff <(cells "$tmp/minimax.1/out") <(cells "$tmp/resumed")
check "resume under mpirun: summary.json identical" diff <(summary "$tmp/minimax.1/out") <(summary "$tmp/resumed")

# Bad input: every rank validates the same way, exit 2, the message printed once.
"${mpi[@]}" "$bin" study minimax-rate --M 500 --out "$tmp/bad" >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
check "bad input under mpirun exits 2 (got $rc)" test "$rc" -eq 2
check "bad input message printed once" test "$(grep -c 'attnrate: error:' "$tmp/bad.err")" -eq 1

check_summary
