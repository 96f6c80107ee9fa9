#!/usr/bin/env bash
# predict and score, whole program: simulate -> fit -> predict -> score for pairwise (A known and
# learned), RFA and RF-MLP fits; exit code 2 with a message naming the option, file or
# file:line:column for every bad input (mismatched d, a missing A file beside the truth, a fit of
# the wrong kind, broken JSON); and no file outside --out changes (score without --out writes
# nothing at all).
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, expect, snapshot, check_summary

# run CODE PATTERN OUTPUT -- command...: exit CODE, output matching PATTERN, nothing outside
# OUTPUT changed.
run() {
  local code=$1 pattern=$2 output=$3
  shift 4
  local before after out rc
  before=$(snapshot "$output")
  out=$("$@" 2>&1)
  rc=$?
  after=$(snapshot "$output")
  check "${*:2:3} ...: exit $rc, want $code ($out)" test "$rc" -eq "$code"
  check "${*:2:3} ...: message /$pattern/, got: $out" grep -qE -- "$pattern" <<<"$out"
  check "${*:2:3} ...: nothing outside $output changed" test "$before" == "$after"
}

p="$tmp/p"
mkdir -p "$p"
"$bin" simulate pairwise --M 400 --N 5 --d 3 --r 2 --sigma 0.3 --seed 4 --out "$p/train.csv" >/dev/null
"$bin" simulate pairwise --M 200 --N 5 --d 3 --r 2 --sigma 0.3 --seed 4 --data-seed 5 --out "$p/other.csv" >/dev/null
"$bin" simulate pairwise --M 50 --N 5 --d 4 --r 2 --seed 4 --out "$p/d4.csv" >/dev/null
check "truth.json names its activation, seed and A" grep -q '"kind": "pairwise-truth"' "$p/train.truth.json"
check "--data-seed: the same model (A)" cmp -s "$p/train.A.csv" "$p/other.A.csv"
check "--data-seed: fresh samples" test "$(sed -n 2p "$p/train.csv")" != "$(sed -n 2p "$p/other.csv")"
check "--data-seed is recorded" grep -q '"data_seed": 5' "$p/other.truth.json"
expect 2 "--data-seed must be" -- "$bin" simulate pairwise --data-seed -3 --out "$p/none.csv"
# simulate rfa: --data-seed auto is --seed (the same file); another value, fresh inputs of the
# same target (key-poly's random direction comes from --seed).
"$bin" simulate rfa --n 50 --N 3 --d 4 --target key-poly:2 --sigma 0 --seed 4 --out "$p/rfa4.csv" >/dev/null
"$bin" simulate rfa --n 50 --N 3 --d 4 --target key-poly:2 --sigma 0 --seed 4 --data-seed 4 --out "$p/rfa44.csv" >/dev/null
"$bin" simulate rfa --n 50 --N 3 --d 4 --target key-poly:2 --sigma 0 --seed 4 --data-seed 5 --out "$p/rfa45.csv" >/dev/null
check "simulate rfa --data-seed auto is --seed" cmp -s "$p/rfa4.csv" "$p/rfa44.csv"
check "simulate rfa --data-seed: fresh inputs" test "$(sed -n 2p "$p/rfa4.csv")" != "$(sed -n 2p "$p/rfa45.csv")"
expect 2 "--data-seed must be" -- "$bin" simulate rfa --data-seed x --out "$p/none.csv"
"$bin" fit pairwise --data "$p/train.csv" --A "$p/train.A.csv" --beta 1 --out "$p/fit.json" >/dev/null
"$bin" fit pairwise --data "$p/train.csv" --rank 2 --knots 4 --restarts 2 --out "$p/joint.json" >/dev/null

# Pairwise: one prediction per token; the phi.csv sidecar is not needed.
run 0 "predicted 400 samples x 5 tokens with the pairwise fit, A known" "$p/pred.csv" -- \
  "$bin" predict --fit "$p/fit.json" --data "$p/train.csv" --out "$p/pred.csv"
check "pairwise predictions header" test "$(head -1 "$p/pred.csv")" = "sample,token,y_hat"
check "pairwise predictions: one row per token" test "$(wc -l <"$p/pred.csv")" -eq 2001
mv "$p/fit.phi.csv" "$p/fit.phi.csv.away"
run 0 "predicted 400 samples" "$p/pred2.csv" -- "$bin" predict --fit "$p/fit.json" --data "$p/train.csv" --out "$p/pred2.csv"
check "predictions without phi.csv are the same" cmp -s "$p/pred.csv" "$p/pred2.csv"
mv "$p/fit.phi.csv.away" "$p/fit.phi.csv"
run 0 "A learned" "$p/pj.csv" -- "$bin" predict --fit "$p/joint.json" --data "$p/other.csv" --out "$p/pj.csv" --threads 2
"$bin" fit pairwise --data "$p/train.csv" --A "$p/train.A.csv" --schedule adaptive --folds 3 --out "$p/adaptive.json" >/dev/null
run 0 "A known, K = [0-9]+ pieces of degree [0-3]" "$p/pa.csv" -- \
  "$bin" predict --fit "$p/adaptive.json" --data "$p/other.csv" --out "$p/pa.csv"

# Score: printed, nothing written without --out; JSON with it.
run 0 "MSE = [0-9.e-]+, R\^2 = 0\.[0-9]+" "$p/none" -- "$bin" score --fit "$p/fit.json" --data "$p/other.csv"
check "score without --out writes nothing" test ! -e "$p/none"
run 0 "composed L2\(rho\) error .* = [0-9.e-]+ \(Monte Carlo SE" "$p/score.json" -- \
  "$bin" score --fit "$p/fit.json" --data "$p/other.csv" --truth "$p/train.truth.json" --test-pairs 5000 --seed 3 \
  --out "$p/score.json"
for key in '"mse"' '"r2"' '"composed_error"' '"composed_error_se"' '"test_pairs": 5000' '"seed": 3'; do
  check "score.json has $key" grep -q "$key" "$p/score.json"
done
run 0 "composed L2" "$p/none" -- "$bin" score --fit "$p/joint.json" --truth "$p/train.truth.json" --test-pairs 1000
# A known fit scored against another model's truth (another A): a warning, not a silent number.
"$bin" simulate pairwise --M 50 --N 5 --d 3 --r 2 --seed 9 --out "$p/other9.csv" >/dev/null
out=$("$bin" score --fit "$p/fit.json" --truth "$p/other9.truth.json" --test-pairs 1000 2>&1)
check "a truth with another A is warned about" grep -q "warning: the fit's A (known, in --fit) is not the truth's A" <<<"$out"
out=$("$bin" score --fit "$p/fit.json" --truth "$p/train.truth.json" --test-pairs 1000 2>&1)
check "the fit's own truth is not warned about" test "$(grep -c "is not the truth's A" <<<"$out")" -eq 0

# Bad input: exit 2, the option, file or place named, nothing written.
run 2 "--data .*d4.csv has d = 4 but --fit .*fit.json was fitted on d = 3" "$p/none" -- \
  "$bin" predict --fit "$p/fit.json" --data "$p/d4.csv" --out "$p/none"
run 2 "--data .*d4.csv has d = 4" "$p/none" -- "$bin" score --fit "$p/fit.json" --data "$p/d4.csv"
run 2 "--truth .*d4.truth.json has d = 4 but --fit" "$p/none" -- "$bin" score --fit "$p/fit.json" --truth "$p/d4.truth.json"
mv "$p/d4.A.csv" "$p/d4.A.away"
run 2 "d4.truth.json: names the A file .*d4.A.csv, which does not exist" "$p/none" -- \
  "$bin" score --fit "$p/fit.json" --truth "$p/d4.truth.json"
mv "$p/d4.A.away" "$p/d4.A.csv"
run 2 "--fit is required" "$p/none" -- "$bin" predict --data "$p/train.csv" --out "$p/none"
run 2 "--data is required" "$p/none" -- "$bin" predict --fit "$p/fit.json" --out "$p/none"
run 2 "--out is required" "$p/none" -- "$bin" predict --fit "$p/fit.json" --data "$p/train.csv"
# A fit whose phi_hat overflows (coefficients edited to 1e300): R^2 and the composed error are
# undefined for that reason, not because y is constant.
/usr/bin/python3 - "$p/fit.json" "$p/huge.json" <<'PY'
import json, sys
fit = json.load(open(sys.argv[1]))
fit["coefficients"] = [1e300] * len(fit["coefficients"])
json.dump(fit, open(sys.argv[2], "w"))
PY
run 0 "R\^2 = undefined \(the squared errors overflow" "$p/none" -- "$bin" score --fit "$p/huge.json" --data "$p/train.csv"
run 0 "composed L2\(rho\) error .* = inf \(not finite: phi_hat overflows" "$p/none" -- \
  "$bin" score --fit "$p/huge.json" --truth "$p/train.truth.json" --test-pairs 1000
run 2 "give --data .* or --truth" "$p/none" -- "$bin" score --fit "$p/fit.json"
run 2 "--test-pairs is used with --truth only" "$p/none" -- "$bin" score --fit "$p/fit.json" --data "$p/train.csv" --test-pairs 2000
run 2 "--test-pairs must be in 1000..1000000000, got 10" "$p/none" -- \
  "$bin" score --fit "$p/fit.json" --truth "$p/train.truth.json" --test-pairs 10
run 2 "missing.json: cannot open" "$p/none" -- "$bin" predict --fit "$p/missing.json" --data "$p/train.csv" --out "$p/none"
printf '{\n  "kind": "pairwise",\n  "d": 3,,\n}\n' >"$p/broken.json"
run 2 "broken.json:3:10: not valid JSON" "$p/none" -- "$bin" predict --fit "$p/broken.json" --data "$p/train.csv" --out "$p/none"
run 2 "score.json: this is the output of attnrate score, not a fit" "$p/none" -- \
  "$bin" predict --fit "$p/score.json" --data "$p/train.csv" --out "$p/none"
run 2 "train.truth.json: this is the truth of simulate pairwise \(score takes it as --truth\)" "$p/none" -- \
  "$bin" predict --fit "$p/train.truth.json" --data "$p/train.csv" --out "$p/none"
awk '/^  "coefficients": \[/ { skip = 1 } !skip { print } skip && /^  \]/ { skip = 0 }' "$p/fit.json" >"$p/nocoef.json"
run 2 "nocoef.json: missing key 'coefficients'" "$p/none" -- \
  "$bin" predict --fit "$p/nocoef.json" --data "$p/train.csv" --out "$p/none"
run 2 "--out .*train.csv is the same file as --data" "$p/none" -- \
  "$bin" predict --fit "$p/fit.json" --data "$p/train.csv" --out "$p/train.csv"
run 2 "--out .*fit.json is the same file as --fit" "$p/none" -- \
  "$bin" score --fit "$p/fit.json" --data "$p/train.csv" --out "$p/fit.json"
run 2 "a directory" "$p/none" -- "$bin" predict --fit "$p/fit.json" --data "$p/train.csv" --out "$p"
# Pairwise data for an attention fit and the reverse: the header names the expected column.
r="$tmp/r"
mkdir -p "$r"
"$bin" simulate rfa --n 300 --N 4 --d 3 --seed 2 --out "$r/data.csv" >/dev/null
"$bin" simulate rfa --n 100 --N 6 --d 3 --seed 3 --out "$r/n6.csv" >/dev/null
"$bin" fit rfa --data "$r/data.csv" --heads 8 --out "$r/fit.json" >/dev/null
"$bin" fit rfa --data "$r/data.csv" --model mlp --heads 8 --out "$r/mlp.json" >/dev/null
run 2 "data.csv:1:2: this is attention data .*needs pairwise data" "$p/none" -- "$bin" predict --fit "$p/fit.json" --data "$r/data.csv" --out "$p/none"
run 2 "train.csv:1:2: this is pairwise data .*needs attention data" "$p/none" -- "$bin" predict --fit "$r/fit.json" --data "$p/train.csv" --out "$p/none"
run 2 "--truth is for pairwise fits; --fit .*fit.json is a rfa fit" "$p/none" -- \
  "$bin" score --fit "$r/fit.json" --truth "$p/train.truth.json"

# RFA and RF-MLP: one prediction per sample; RFA takes any N, the MLP only its own.
run 0 "W_m redrawn from seed 1 \(not stored in the fit\)" "$r/pred.csv" -- \
  "$bin" predict --fit "$r/fit.json" --data "$r/data.csv" --out "$r/pred.csv"
check "attention predictions header" test "$(head -1 "$r/pred.csv")" = "sample,y_hat"
# The zero-mean law has no mean scale: fit.json carries mu only with biased weights, and both read back.
check "zero-mean fit.json has no mu" test "$(grep -c '"mu"' "$r/fit.json")" -eq 0
"$bin" fit rfa --data "$r/data.csv" --heads 8 --weights biased --mu 2 --out "$r/biased.json" >/dev/null
check "biased fit.json has mu" grep -q '"mu": 2' "$r/biased.json"
run 0 "predicted 300 samples" "$r/pb.csv" -- "$bin" predict --fit "$r/biased.json" --data "$r/data.csv" --out "$r/pb.csv"
check "attention predictions: one row per sample" test "$(wc -l <"$r/pred.csv")" -eq 301
run 0 "predicted 100 samples" "$r/p6.csv" -- "$bin" predict --fit "$r/fit.json" --data "$r/n6.csv" --out "$r/p6.csv"
# The memory estimate of fit rfa and predict covers the measured peak (resident set of the child,
# less a 64 MiB allowance for the program and its libraries), with the per-thread feature blocks.
"$bin" simulate rfa --n 300 --N 4 --d 6 --seed 2 --out "$r/d6.csv" >/dev/null
peak_within_estimate() {  # command...: the estimate (from a refusal at --max-memory 1M) vs the peak
  python3 - "$@" <<'PY'
import re, resource, subprocess, sys
cmd = sys.argv[1:]
refused = subprocess.run(cmd + ["--max-memory", "1M"], capture_output=True, text=True)
m = re.search(r"needs about ([0-9.]+) (KiB|MiB|GiB)", refused.stderr)
est = float(m.group(1)) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[m.group(2)]
subprocess.run(cmd, check=True, capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(f"estimate {est / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB")
sys.exit(0 if est + 64 * 2**20 >= peak else 1)
PY
}
for T in 1 2; do
  out=$(peak_within_estimate "$bin" fit rfa --data "$r/d6.csv" --heads 20000 --lambda 0.1 --threads $T --out "$r/big.json")
  check "fit rfa --threads $T: the estimate covers the peak ($out)" test $? -eq 0
  out=$(peak_within_estimate "$bin" predict --fit "$r/big.json" --data "$r/d6.csv" --threads $T --out "$r/big.csv")
  check "predict --threads $T: the estimate covers the peak ($out)" test $? -eq 0
done

# Finite inputs whose scores overflow (one coordinate 1e308): exit 2 naming the overflow, never
# NaN predictions or a crash inside the parallel blocks.
awk -F, 'NR == 3 {$3 = "1e308"} {print}' OFS=, "$r/data.csv" >"$r/huge.csv"
run 2 "--data .*huge.csv: .*sample 0 \(0-based\): the features are not finite: the scores .* overflow for inputs this large; scale the inputs down" "$p/none" -- \
  "$bin" predict --fit "$r/fit.json" --data "$r/huge.csv" --out "$p/none" --threads 2
run 2 "--data .*huge.csv: .*sample 0 \(0-based\): the features are not finite" "$p/none" -- \
  "$bin" score --fit "$r/fit.json" --data "$r/huge.csv" --threads 2
# Pairwise tokens whose interactions overflow (sample 5's first coordinate times 1e300): named by
# sample, never predicted at the clamped end of the spline range nor fitted with them clamped.
awk -F, 'NR > 1 && $1 == 5 {$3 = $3 * 1e300} {print}' OFS=, "$p/other.csv" >"$p/huge.csv"
for cmd in predict score; do
  run 2 "--data .*huge.csv: sample 5 \(0-based\): an interaction X_i\^T A X_j is not finite: the products of the tokens and the fit's A overflow" \
    "$p/none" -- "$bin" "$cmd" --fit "$p/fit.json" --data "$p/huge.csv" --out "$p/none" --threads 2
done
for range in auto -2,2; do
  run 2 "--data .*huge.csv: sample 5 \(0-based\): an interaction u = X_i\^T A X_j is not finite" "$p/none" -- \
    "$bin" fit pairwise --data "$p/huge.csv" --A "$p/train.A.csv" --knots 6 --range "$range" --out "$p/none"
done
run 2 "--data .*huge.csv: pairwise ERM: the tokens are so large that their mean squared norm overflows" "$p/none" -- \
  "$bin" fit pairwise --data "$p/huge.csv" --rank 2 --knots 4 --out "$p/none"
# The data and predictions count against --max-memory in predict and score, for every kind.
"$bin" simulate rfa --n 20000 --N 4 --d 3 --seed 2 --out "$r/big.csv" >/dev/null
# Overflow in a later block (the RF-MLP's blocks are 256 samples) names the sample in the whole
# file, and fit rfa names the file too.
awk -F, 'NR > 1 && $1 == 300 {$3 = $4 = $5 = "1.7e308"} {print}' OFS=, "$r/big.csv" >"$r/top.csv"
run 2 "--data .*top.csv: RandomFeatureMlp::features: sample 300 \(0-based\): the features are not finite" "$p/none" -- \
  "$bin" predict --fit "$r/mlp.json" --data "$r/top.csv" --out "$p/none" --threads 2
run 2 "--data .*top.csv: RandomFeatureAttention::features: sample 300 \(0-based\)" "$p/none" -- \
  "$bin" fit rfa --data "$r/top.csv" --heads 4 --out "$p/none"
for cmd in predict score; do
  run 2 "$cmd needs about .*data and predictions of 20000 samples of 5 tokens in d = 3.*--max-memory 1M" "$p/none" -- \
    "$bin" "$cmd" --fit "$r/fit.json" --data "$r/big.csv" --out "$p/none" --threads 1 --max-memory 1M
  run 2 "$cmd needs about .*data, A X and predictions of M x N = 400 x 5 tokens in d = 3" "$p/none" -- \
    "$bin" "$cmd" --fit "$p/fit.json" --data "$p/train.csv" --out "$p/none" --max-memory 10K
done
run 0 "RF-MLP fit, width 32" "$r/pm.csv" -- "$bin" predict --fit "$r/mlp.json" --data "$r/data.csv" --out "$r/pm.csv"
run 2 "has N = 6 keys per sample but the RF-MLP --fit .*mlp.json was fitted on N = 4" "$p/none" -- \
  "$bin" predict --fit "$r/mlp.json" --data "$r/n6.csv" --out "$p/none"
run 0 "on .*data.csv \(300 samples\): MSE = " "$p/none" -- "$bin" score --fit "$r/mlp.json" --data "$r/data.csv"
# The in-sample MSE of the predictions is the fit's train_mse (same model, same features).
mse=$("$bin" score --fit "$r/fit.json" --data "$r/data.csv" --out "$r/score.json" >/dev/null &&
  grep -o '"mse": [^,]*' "$r/score.json" | cut -d' ' -f2)
train=$(grep -o '"train_mse": [^,]*' "$r/fit.json" | cut -d' ' -f2)
check "RFA in-sample MSE $mse is the fit's train_mse $train" \
  awk -v a="$mse" -v b="$train" 'BEGIN { exit !(a > 0 && (a - b) ^ 2 <= (1e-9 * b) ^ 2) }'
run 2 "--sigma-act is an option of --model rfa, not --model mlp" "$p/none" -- \
  "$bin" fit rfa --data "$r/data.csv" --model mlp --sigma-act exp --out "$p/none"
run 2 "--model must be rfa or mlp, got 'kernel'" "$p/none" -- "$bin" fit rfa --data "$r/data.csv" --model kernel --out "$p/none"

# The README's example (section "Your own data (CLI)"), run as written in a scratch folder.
readme="$(dirname "$0")/../README.md"
example=$(awk '/^### Your own data \(CLI\)/ { on = 1 } on && /^```/ { n++; next } on && n == 1 { print } n == 2 { exit }' "$readme")
check "README example found" test "$(grep -c '^./build/attnrate ' <<<"$example")" -eq 5
mkdir -p "$tmp/readme"
abs_bin=$(realpath "$bin")
out=$(cd "$tmp/readme" && while read -r line; do
  ${line/.\/build\/attnrate/$abs_bin} || { echo "FAILED: $line"; exit 1; }
done <<<"$example" 2>&1)
check "README example runs: $out" test $? -eq 0
check "README example scores against the truth" grep -q "composed L2(rho) error" <<<"$out"
check "README example writes its predictions" test -s "$tmp/readme/run/pred.csv"

check_summary
