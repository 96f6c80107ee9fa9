#!/usr/bin/env bash
# Reproducibility and interruption: the same seed gives identical cells with 1 and 2
# threads; a sweep killed with SIGKILL (or stopped with SIGINT) and resumed gives exactly the
# uninterrupted results; corrupt checkpoints are reported and recomputed.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, check_summary
# cells.csv without its last column (wall-clock seconds per cell).
cells() { sed -E 's/,[^,]*$//' "$1/cells.csv"; }
claims() { grep -E '"(slope|ci_t|ci_boot|verdict|measured)"' -A2 "$1/summary.json"; }

args=(study minimax-rate --M 500:8000:x2 --seeds 3 --test-pairs 20000 --activation weierstrass:1)

"$bin" "${args[@]}" --threads 1 --out "$tmp/t1" >/dev/null 2>&1
"$bin" "${args[@]}" --threads 2 --out "$tmp/t2" >/dev/null 2>&1
check "cells.csv identical with 1 and 2 threads" diff <(cells "$tmp/t1") <(cells "$tmp/t2")
check "claims identical with 1 and 2 threads" diff <(claims "$tmp/t1") <(claims "$tmp/t2")
check "15 cells written" test "$(cells "$tmp/t1" | wc -l)" -eq 16

# SIGKILL mid-way, then --resume. A sweep whose later cells take a second or more, so the kill
# lands mid-way however fast the machine is; its uninterrupted run is the reference.
slow=(study minimax-rate --M 500:32000:x2 --seeds 2 --test-pairs 20000 --activation weierstrass:1)
"$bin" "${slow[@]}" --out "$tmp/ref" >/dev/null 2>&1
"$bin" "${slow[@]}" --out "$tmp/k" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 1500); do
  n=$(ls "$tmp/k/cells" 2>/dev/null | grep -c '\.json$')
  [[ $n -ge 4 ]] && break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
n=$(ls "$tmp/k/cells" | grep -c '\.json$')
check "killed run left some but not all checkpoints ($n)" test "$n" -ge 1 -a "$n" -lt 14
check "no summary before the run finished" test ! -f "$tmp/k/summary.json"
"$bin" "${slow[@]}" --out "$tmp/k" --resume >/dev/null 2>&1
check "resumed after SIGKILL: cells identical" diff <(cells "$tmp/ref") <(cells "$tmp/k")
check "resumed after SIGKILL: claims identical" diff <(claims "$tmp/ref") <(claims "$tmp/k")

# Corrupt and foreign checkpoints are reported and recomputed.
echo '{"fingerprint": "x", "cell": {' >"$tmp/k/cells/M500-rep0.json"
sed -i 's/"fingerprint": "[0-9]*"/"fingerprint": "123"/' "$tmp/k/cells/M1000-rep1.json"
out=$("$bin" "${slow[@]}" --out "$tmp/k" --resume 2>&1 >/dev/null)
check "corrupt checkpoint reported" grep -q "checkpoint .*M500-rep0.json is corrupt" <<<"$out"
check "foreign checkpoint reported" grep -q "M1000-rep1.json was written with other parameters" <<<"$out"
check "only the two damaged checkpoints recomputed" test "$(grep -c recomputing <<<"$out")" -eq 2
check "reuse counted" grep -q -- "--resume: 12 of 14 cells of .* read from checkpoints" <<<"$out"
check "recomputed cells identical" diff <(cells "$tmp/ref") <(cells "$tmp/k")

# SIGINT: the current cell is finished and written, exit 130 with a hint.
"$bin" "${slow[@]}" --out "$tmp/i" >"$tmp/i.out" 2>&1 &
pid=$!
for _ in $(seq 1 1500); do
  n=$(ls "$tmp/i/cells" 2>/dev/null | grep -c '\.json$')
  [[ $n -ge 3 ]] && break
  sleep 0.02
done
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT exits 130 (got $rc)" test "$rc" -eq 130
check "SIGINT prints the resume hint" grep -q -- "--resume" "$tmp/i.out"
"$bin" "${slow[@]}" --out "$tmp/i" --resume >/dev/null 2>&1
check "resumed after SIGINT: cells identical" diff <(cells "$tmp/ref") <(cells "$tmp/i")

check_summary
