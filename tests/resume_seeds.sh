#!/usr/bin/env bash
# More repetitions reuse the earlier ones: in every study, a run with --seeds 3 --resume over the
# checkpoints of a --seeds 2 run reads those cells from them and gives exactly the cells and the
# summary of a fresh --seeds 3 run. This holds because a repetition's cell is named and seeded by
# its index, never by the count (so --seeds is left out of the checkpoints' fingerprint).
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, check_summary

# cells.csv without the wall-clock columns (their names end in "seconds"), in a stable order.
cells() {
  /usr/bin/python3 - "$1/cells.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
keep = [k for k, name in enumerate(rows[0]) if not name.endswith("seconds")]
for row in rows:
    print(",".join(row[k] for k in keep))
EOF
}
# summary.json's measurements (every quantity's value and intervals), without timings.
measurements() {
  /usr/bin/python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["quantities"], sort_keys=True))' \
    "$1/summary.json"
}

# Small runs of every study (the fuzz harnesses' sizes), and the adaptive schedules.
runs=(
  "approximation --activations bspline:3 --knots 4,8 --M 400 --test-pairs 1000 --bootstrap 100"
  "biased-weights --mu 1 --target key-poly:2 --heads 4 --n 20,40 --from-n 20 --test-n 10000 --lambda 0.01 --bootstrap 100"
  "coercivity --token-laws uniform --M 64,128 --gram-pairs 1000 --knots 4"
  "dimension-free --activations bspline:3 --d 2 --N 4 --d-values 1,2 --N-values 4 --r-values 1 --M 200,400 --test-pairs 1000 --restarts 1 --max-iterations 5 --bootstrap 100"
  "dimension-free --schedule adaptive --activations weierstrass:1 --d 2 --N 4 --d-values 2 --N-values 4 --r-values 1 --M 200,400 --test-pairs 1000 --restarts 1 --max-iterations 5 --bootstrap 100"
  "heads --heads 4,8 --n 20 --d 2 --N 2 --test-n 10000 --lambda 0.01 --bootstrap 100"
  "kernel-limit --N 2,4 --d 2 --n 20,40 --test-n 500 --lambda-grid 1e-3,1e-1 --bootstrap 100"
  "minimax-rate --M 200,400 --test-pairs 1000 --range -1,1 --bootstrap 100"
  "minimax-rate --schedule adaptive --M 200,400 --test-pairs 1000 --bootstrap 100"
  "rank-condition --d-values 1,2 --M 400 --test-pairs 1000 --restarts 1 --max-iterations 5 --bootstrap 100"
  "rfa-vs-mlp --N 2,4 --heads 4 --target key-poly:2 --n 20,40 --test-n 10000 --lambda 0.01 --bootstrap 100"
  "smoothness --erm-activations bspline:3 --known-activations weierstrass:1 --M 200,400 --M-known 200,400 --test-pairs 1000 --restarts 1 --max-iterations 5 --bootstrap 100"
  "target-complexity --d 2 --p 1,2 --family key-poly --heads 4 --n 20,40 --test-n 10000 --lambda 0.01 --bootstrap 100"
)
k=0
for run in "${runs[@]}"; do
  read -r -a args <<<"$run"
  study=${args[0]}
  k=$((k + 1))
  grown="$tmp/grown$k" fresh="$tmp/fresh$k"
  common=("$bin" study "${args[@]}" --threads 1 --no-figures)
  if ! "${common[@]}" --seeds 2 --out "$grown" >/dev/null 2>"$tmp/err"; then
    echo "FAIL: $study --seeds 2: $(tail -1 "$tmp/err")"
    fail=$((fail + 1))
    continue
  fi
  before=$(find "$grown/cells" -name '*.json' | wc -l)
  "${common[@]}" --seeds 3 --out "$grown" --resume >/dev/null 2>"$tmp/err"
  check "$run: --seeds 3 --resume exits 0" test $? -eq 0
  "${common[@]}" --seeds 3 --out "$fresh" >/dev/null 2>&1
  check "$run: --seeds 3 exits 0" test $? -eq 0
  after=$(find "$fresh/cells" -name '*.json' | wc -l)
  check "$run: --seeds 3 --resume reads the $before cells of --seeds 2 (of $after)" \
    grep -q -- "--resume: $before of $after cells of .* read from checkpoints" "$tmp/err"
  check "$run: cells as a fresh --seeds 3 run" diff <(cells "$grown") <(cells "$fresh")
  check "$run: measurements as a fresh --seeds 3 run" diff <(measurements "$grown") <(measurements "$fresh")
done

check_summary
