#!/usr/bin/env bash
# How a study's wall time scales with M, d and N: each cell's own `seconds` (cells.csv) on a log
# grid, the slope of log seconds on log size fitted by `attnrate rate` (repetitions as seeds).
#   bench/study_scaling.sh [ATTNRATE] [OUT] [THREADS]
# Writes OUT/{M,d,N}/ (the studies) and OUT/{M,d,N}.csv (columns size,error,seed as `attnrate rate`
# reads them: the size, the cell's seconds, its repetition), prints each fit. OUT must not exist
# yet (a rerun into it would resume the studies and report the old seconds).
# About 4 minutes on one thread; each fit's summary is also in OUT/rate-{M,d,N}/.
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
attnrate=${1:-build/attnrate}
out=${2:-results/scaling}
threads=${3:-1}
if [[ ! -x "$attnrate" || -d "$attnrate" ]]; then
  echo "study_scaling.sh: $attnrate is not an executable file (build it, or give its path first)" >&2
  exit 2
fi
if [[ -e "$out" ]]; then
  echo "study_scaling.sh: $out exists; give a new output directory" >&2
  exit 2
fi
mkdir -p "$out"

# Rows size,seconds,rep of every ok cell of a cells.csv (at sample size M_ONLY if given); a CSV
# reader, since cells.csv quotes fields that hold commas.
table() {  # table CELLS SIZE_COLUMN [M_ONLY]
  python3 - "$@" <<'PY'
import csv, sys
cells, col = sys.argv[1], sys.argv[2]
m = sys.argv[3] if len(sys.argv) > 3 else None
for row in csv.DictReader(open(cells, newline="")):
    if row["status"] == "ok" and (m is None or row["M"] == m):
        print(f"{row[col]},{row['seconds']},{row['rep']}")
PY
}

# M: A known, default minimax-rate model, M from 4000 (below, a cell takes milliseconds).
"$attnrate" study minimax-rate --M 4000:128000:x2 --seeds 4 --test-pairs 20000 --threads "$threads" \
  --out "$out/M" >/dev/null
{ echo "size,error,seed"; table "$out/M/cells.csv" M; } >"$out/M.csv"

# d: A unknown (the joint fit), the rank-condition series at M = 4000.
"$attnrate" study rank-condition --d-values 2,4,8,16,32 --seeds 3 --threads "$threads" --out "$out/d" >/dev/null
{ echo "size,error,seed"; table "$out/d/cells.csv" d; } >"$out/d.csv"

# N: A known at M = 16000, one minimax-rate study per N (a study needs two sample sizes).
echo "size,error,seed" >"$out/N.csv"
for N in 4 8 16 32; do
  "$attnrate" study minimax-rate --N "$N" --M 8000,16000 --seeds 4 --test-pairs 20000 --threads "$threads" \
    --out "$out/N/$N" >/dev/null
  table "$out/N/$N/cells.csv" N 16000 >>"$out/N.csv"
done

for x in M d N; do
  echo "== wall time per cell vs $x"
  "$attnrate" rate --data "$out/$x.csv" --out "$out/rate-$x" | grep -i "slope"
done
