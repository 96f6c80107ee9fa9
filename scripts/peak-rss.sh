#!/usr/bin/env bash
# Peak resident set size (GNU time -v, "Maximum resident set size") of the two streaming fits at
# 10^5 and 10^6 samples, each in its own process:
#   pairwise  `attnrate study minimax-rate` with one seed; the rate fit needs three cells, so each run is
#             M = 1000, 2000 and the measured size (the small cells cost nothing in memory). Memory
#             O(K^2 + block): the samples are drawn block by block, only the normal equations kept.
#   rfa       `attnrate_bench --benchmark_filter=BM_RfaStreamingFitGenerated` with
#             ATTNRATE_BENCH_STREAM_N = n: M = 64 heads, d = 16, N = 16 (p = 1088 features), fixed
#             lambda, 2 threads; memory O(p^2 + block), where storing Phi would take n p 8 bytes.
# A peak that stays flat from 10^5 to 10^6 (far from 10x) is the claim. Prints one table.
# Usage: scripts/peak-rss.sh [BUILD_DIR]   (default build/; needs attnrate and attnrate_bench,
#        i.e. a build configured with -DATTNRATE_BUILD_BENCH=ON). Takes a few minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
"$root/scripts/install-deps.sh" time
for exe in attnrate attnrate_bench; do
  [[ -x "$build/$exe" ]] || { echo "peak-rss: $build/$exe not found; build it first (bench needs -DATTNRATE_BUILD_BENCH=ON)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs a command under /usr/bin/time -v and sets kb (peak RSS in KiB) and secs (wall clock);
# the command's own output goes to $work/log.
measure() {
  /usr/bin/time -v -o "$work/time" "$@" >"$work/log" 2>&1 || {
    echo "peak-rss: command failed: $*" >&2
    tail -20 "$work/log" >&2
    exit 1
  }
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
  secs=$(awk -F': ' '/Elapsed \(wall clock\) time/ {print $2}' "$work/time")
}

printf '%-9s %9s %14s %12s  %s\n' kernel n peak_RSS_MiB wall note
for M in 100000 1000000; do
  measure "$build/attnrate" study minimax-rate --M "1000,2000,$M" --seeds 1 --bootstrap 100 \
    --threads 2 --out "$work/minimax-$M"
  awk -v M="$M" -v kb="$kb" -v s="$secs" 'BEGIN { printf "%-9s %9d %14.1f %12s  minimax-rate defaults (N 8, d 5): X and Y would take %.0f MiB\n", "pairwise", M, kb / 1024, s, M * 8 * 6 * 8 / 1048576 }'
done
for n in 100000 1000000; do
  measure env ATTNRATE_BENCH_STREAM_N="$n" "$build/attnrate_bench" --benchmark_filter='BM_RfaStreamingFitGenerated'
  awk -v n="$n" -v kb="$kb" -v s="$secs" 'BEGIN { printf "%-9s %9d %14.1f %12s  p = 1088: Phi would take %.0f MiB\n", "rfa", n, kb / 1024, s, n * 1088 * 8 / 1048576 }'
done
