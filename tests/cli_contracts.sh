#!/usr/bin/env bash
# CLI contracts: simulate -> fit round trip, exit code 2 with an actionable message for every
# invalid option or data file. Hostile paths and sizes: tests/hostile_input.sh.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, expect, check_summary

# --version: version and git revision ("-dirty.<hash of the diff>" with uncommitted changes,
# "unknown" outside git),
# then one line per library.
expect 0 "^attnrate [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{12}(-dirty\.[0-9a-f]{8})?|unknown)\)" -- "$bin" --version
for lib in "Armadillo:" "BLAS/LAPACK:" "CLI11:" "toml\+\+:" "nlohmann json:" "Boost:" "MPI:"; do
  expect 0 "^$lib +[^ ]" -- "$bin" --version
done

# Round trip: simulate noiseless data from a spline-representable model is not possible with
# weierstrass, so check the contract: files (sidecars named after --out), JSON keys, phi size.
expect 0 "wrote" -- "$bin" simulate pairwise --M 300 --N 4 --d 3 --r 1 --sigma 0.1 --seed 3 --out "$tmp/data.csv"
[[ -f "$tmp/data.A.csv" ]] || { echo "FAIL: data.A.csv not written"; fail=$((fail + 1)); }
[[ -f "$tmp/data.truth.json" ]] || { echo "FAIL: data.truth.json not written"; fail=$((fail + 1)); }
head -1 "$tmp/data.csv" | grep -qx "sample,token,x1,x2,x3,y" || { echo "FAIL: data header"; fail=$((fail + 1)); }
expect 0 "solver = cholesky" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --degree 1 --knots 6 --ridge 0 --out "$tmp/fit.json"
for key in degree knots coefficients range A train_mse solver; do
  grep -q "\"$key\"" "$tmp/fit.json" || { echo "FAIL: fit.json lacks $key"; fail=$((fail + 1)); }
done
grep -q '"warnings": \[\]' "$tmp/fit.json" || { echo "FAIL: fit.json of a fit without warnings: warnings []"; fail=$((fail + 1)); }
[[ $(wc -l <"$tmp/fit.phi.csv") -eq 1002 ]] || { echo "FAIL: fit.phi.csv should have 1001 rows + header"; fail=$((fail + 1)); }

# Joint fit (A unknown): learned A, knots, coefficients and training risk in fit.json.
expect 0 "joint fit: rank 1" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --degree 3 --knots 4 --restarts 2 --out "$tmp/joint/fit.json"
for key in degree knots coefficients range A train_mse solver diagnostics; do
  grep -q "\"$key\"" "$tmp/joint/fit.json" || { echo "FAIL: joint fit.json lacks $key"; fail=$((fail + 1)); }
done
[[ $(wc -l <"$tmp/joint/fit.phi.csv") -eq 1002 ]] || { echo "FAIL: joint fit.phi.csv should have 1001 rows + header"; fail=$((fail + 1)); }
# Continuation in K (--coarse-pieces): K = 8 from 2 pieces runs stages 2, 4, 8, reported in fit.json.
expect 0 "joint fit: rank 1" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --degree 3 --knots 8 --coarse-pieces 2 --restarts 2 --out "$tmp/joint2/fit.json"
[[ $(grep -c '"pieces": [248],\?$' "$tmp/joint2/fit.json") -eq 4 ]] || { echo "FAIL: joint fit.json should report stages with 2, 4, 8 pieces (and pieces 8)"; fail=$((fail + 1)); }
expect 2 "--coarse-pieces must be" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --knots 8 --coarse-pieces -1 --out "$tmp/f.json"
expect 2 "--coarse-pieces is an option of the joint fit" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 4 --coarse-pieces 2 --out "$tmp/f.json"
# The space selected from the data: no --beta, --knots or --degree; the adaptive options only
# with --schedule adaptive (A known, or A unknown with --rank).
expect 0 "adaptive fit \(mixture, [0-9]+ candidates\): K = [0-9]+, degree = [0-3] selected; phi_hat mixes [0-9]+ spaces? \(degree [0-3] on K = [0-9]+(; degree [0-3] on K = [0-9]+)*\)" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --out "$tmp/adaptive/fit.json"
grep -q '"candidates"' "$tmp/adaptive/fit.json" && grep -q '"b_hat"' "$tmp/adaptive/fit.json" || { echo "FAIL: adaptive fit.json keys"; fail=$((fail + 1)); }
# fit.phi.csv tabulates phi_hat, fit.json's spline or sum of splines (on noisier data a mixture of
# spaces of several degrees: "terms"), not the selected space alone.
expect 0 "wrote" -- "$bin" simulate pairwise --M 1000 --N 4 --d 3 --r 1 --sigma 2 --seed 3 --out "$tmp/noisy.csv"
expect 0 "phi_hat mixes" -- "$bin" fit pairwise --data "$tmp/noisy.csv" --A "$tmp/noisy.A.csv" --schedule adaptive --out "$tmp/adaptive/mix.json"
/usr/bin/python3 - "$tmp/adaptive/mix.json" "$tmp/adaptive/mix.phi.csv" <<'PY' || { echo "FAIL: adaptive fit.phi.csv is not fit.json's phi_hat"; fail=$((fail + 1)); }
import json, sys
import numpy as np
from scipy.interpolate import BSpline
f = json.load(open(sys.argv[1]))
table = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
assert sum(c["weight"] > 0 for c in f["candidates"]) >= 2, "not a mixture: the check would not tell"
assert len(f["terms"]) >= 2 and "coefficients" not in f, "not a sum over degrees: the check would not tell"
phi = lambda u: sum(BSpline(np.array(t["knots"]), np.array(t["coefficients"]), t["degree"])(u) for t in f["terms"])
assert np.allclose(phi(table[:, 0]), table[:, 1], rtol=1e-9, atol=1e-12)
PY
expect 0 "adaptive fit \(penalty" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --select penalty --folds 3 --out "$tmp/adaptive/fit2.json"
expect 2 "--beta 1 has no effect with --schedule adaptive" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --beta 1 --out "$tmp/f.json"
expect 2 "give --knots K or --beta b, not both" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 8 --beta 1 --out "$tmp/f.json"
# A --range beside the data clamps every interaction: said, for both schedules, on standard error
# and in fit.json's warnings.
expect 0 "warning: .*of 3600 training interactions \(100%\) lie outside --range 5,6" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 4 --range 5,6 --out "$tmp/clamped/fit.json"
grep -q '"3600 of 3600 training interactions (100%) lie outside --range 5,6 .*leave --range unset' "$tmp/clamped/fit.json" || { echo "FAIL: fit.json's warnings lack the clamping"; fail=$((fail + 1)); }
expect 0 "warning: 3600 of 3600 training interactions" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --range 5,6 --out "$tmp/clamped/adaptive.json"
# A selected K at the top of the candidate grid (M = 300: K_max = 300 / ln(300)^2 = 9, grid 1..8)
# is said, and b_hat names the subsample sizes so bounded.
expect 0 "warning: the selected K = 8 is the largest of the candidate grid" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --out "$tmp/grid/fit.json"
grep -q '"grid_limited": "at M = 300' "$tmp/grid/fit.json" || { echo "FAIL: b_hat.grid_limited"; fail=$((fail + 1)); }
# A grid of one K caps every size: b_hat is undefined because of the grid, and says so.
expect 0 "b_hat: none \(the selected K is the largest of the candidate grid at every size" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --max-knots 1 --out "$tmp/grid/one.json"
# A joint fit with more pieces than 10 samples determine: its min-norm phi-step is said.
head -41 "$tmp/data.csv" >"$tmp/ten.csv"
expect 0 "warning: the final phi-step's normal matrix is singular or ill-conditioned" -- "$bin" fit pairwise --data "$tmp/ten.csv" --rank 1 --knots 200 --degree 3 --restarts 2 --out "$tmp/joint-singular/fit.json"
expect 2 "give --knots K or --beta b, not both" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --knots 8 --beta 1 --out "$tmp/f.json"
expect 2 "--folds is an option of --schedule adaptive" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 4 --folds 3 --out "$tmp/f.json"
expect 2 "--schedule must be fixed or adaptive" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule plain --knots 4 --out "$tmp/f.json"
expect 0 "adaptive joint fit: rank 1 \(mixture, [0-9]+ candidates\): K = [0-9]+, degree = [0-3] selected" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --schedule adaptive --restarts 2 --out "$tmp/joint-adaptive/fit.json"
for key in candidates b_hat pilot erm rank identifiability; do
  grep -q "\"$key\"" "$tmp/joint-adaptive/fit.json" || { echo "FAIL: adaptive joint fit.json lacks $key"; fail=$((fail + 1)); }
done
expect 0 "wrote" -- "$bin" predict --fit "$tmp/joint-adaptive/fit.json" --data "$tmp/data.csv" --out "$tmp/joint-adaptive/pred.csv"
# b_hat's subsamples stop where --refit-trim would cut every interaction (M = 37 of 300: 444 <= 600).
expect 0 "adaptive joint fit" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --schedule adaptive --restarts 1 --refit-trim 300 --out "$tmp/joint-adaptive/trim.json"
[[ $(grep -c '"M": \(300\|150\|75\|37\),\?$' "$tmp/joint-adaptive/trim.json") -ge 3 ]] && ! grep -q '"M": 37' "$tmp/joint-adaptive/trim.json" || { echo "FAIL: b_hat subsamples should be M = 300, 150, 75"; fail=$((fail + 1)); }
expect 2 "--refit-trim \(interactions cut at each end of the selection's interval\) must satisfy" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --schedule adaptive --refit-trim 99999999 --out "$tmp/f.json"
expect 2 "lower --max-knots or --max-degree" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --schedule adaptive --max-knots 1000000 --max-memory 1G --out "$tmp/f.json"
expect 2 "--knots 4 has no effect with --schedule adaptive" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --schedule adaptive --knots 4 --out "$tmp/f.json"
expect 2 "--folds is an option of --schedule adaptive" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 1 --knots 4 --folds 3 --out "$tmp/f.json"
expect 2 "--select must be mixture, cv, cv-refit or penalty, got 'aic'" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --schedule adaptive --select aic --out "$tmp/f.json"
expect 2 "--rank must be at most the data's token dimension d = 3 \(A is d x d of rank r\), got 4" -- "$bin" fit pairwise --data "$tmp/data.csv" --rank 4 --knots 4 --out "$tmp/f.json"
expect 2 "either --A" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --rank 1 --knots 4 --out "$tmp/f.json"
expect 2 "give --A FILE .* or --rank" -- "$bin" fit pairwise --data "$tmp/data.csv" --knots 4 --out "$tmp/f.json"

# Random-feature attention: simulate -> fit, and its validation.
expect 0 "wrote" -- "$bin" simulate rfa --n 300 --N 4 --d 3 --target key-poly:2 --seed 2 --out "$tmp/rfa/data.csv"
head -1 "$tmp/rfa/data.csv" | grep -qx "sample,key,x1,x2,x3,y" || { echo "FAIL: rfa data header"; fail=$((fail + 1)); }
expect 0 "RFA fit: 16 heads" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --heads 16 --lambda gcv --out "$tmp/rfa/fit.json"
for key in heads lambda form solver train_mse coefficients; do
  grep -q "\"$key\"" "$tmp/rfa/fit.json" || { echo "FAIL: rfa fit.json lacks $key"; fail=$((fail + 1)); }
done
expect 2 "--lambda must be a number > 0" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --lambda -1 --out "$tmp/f.json"
expect 2 "--mu is the mean scale of --weights biased; with --weights zero-mean it would be ignored" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --mu -1 --out "$tmp/f.json"
# Attention data count rows (the query and its keys) and samples n.
awk -F, '!($1 == 1 && $2 == 4)' "$tmp/rfa/data.csv" >"$tmp/rfa-short.csv"
expect 2 "rfa-short.csv:[0-9]+:1: sample 1 has 4 rows \(the query and its keys\) but sample 0 has 5" -- "$bin" fit rfa --data "$tmp/rfa-short.csv" --out "$tmp/f.json"
head -6 "$tmp/rfa/data.csv" >"$tmp/rfa-one.csv"
expect 2 "need at least 2 samples \(n >= 2\)" -- "$bin" fit rfa --data "$tmp/rfa-one.csv" --out "$tmp/f.json"
head -11 "$tmp/rfa/data.csv" >"$tmp/rfa-two.csv"
expect 2 "--lambda kfold:5 needs at least 5 training samples \(one per fold\), but the data hold n = 2" -- "$bin" fit rfa --data "$tmp/rfa-two.csv" --lambda kfold:5 --out "$tmp/f.json"
expect 2 "--lambda must be a number > 0 \(or gcv, kfold, kfold:K\), got 'nan'" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --lambda nan --out "$tmp/f.json"
expect 2 "--tau 0 with zero-mean weights draws every query-key weight as 0" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --tau 0 --out "$tmp/f.json"
# The studies refuse an ignored --mu too, before any work.
for study in rfa-vs-mlp heads target-complexity; do
  expect 2 "--mu is the mean scale of --weights biased; with --weights zero-mean it would be ignored" -- "$bin" study "$study" --mu 3 --out "$tmp/never"
done
# Repeated list entries, also spelt differently, are one entry: refused before any work.
expect 2 "--target has repeated entries: 'cos-inner:3' and 'cos-inner:3.0' are the same target" -- "$bin" study biased-weights --target cos-inner:3,cos-inner:3.0 --out "$tmp/never"
expect 2 "--target has repeated entries: 'cos-inner' and 'cos-inner:3' are the same target" -- "$bin" study rfa-vs-mlp --d 4 --target cos-inner,cos-inner:3 --out "$tmp/never"
expect 2 "--target has repeated entries" -- "$bin" study rfa-vs-mlp --target key-poly:2,key-poly:2 --out "$tmp/never"
expect 2 "--family has repeated entries" -- "$bin" study target-complexity --family key-poly,key-poly --out "$tmp/never"
expect 2 "--mu has repeated entries: '1,1.0'" -- "$bin" study biased-weights --mu 1,1.0 --out "$tmp/never"
expect 2 "--mu has entries too close to tell apart" -- "$bin" study biased-weights --mu 1.0000001,1.0000002 --out "$tmp/never"
expect 2 "--p needs at least two distinct degrees" -- "$bin" study target-complexity --p 1 --out "$tmp/never"
expect 2 "--lambda must be gcv or a number in \(0, 1e12\] \(heads offers no k-fold search\), got 'kfold:20'" -- "$bin" study heads --lambda kfold:20 --out "$tmp/never"
expect 2 "--lambda kfold:20 needs at least 20 training samples \(one per fold\), but --n starts at 10" -- "$bin" study rfa-vs-mlp --n 10,20 --lambda kfold:20 --out "$tmp/never"
# A fixed --knots leaves the schedule's constant and the paper abscissa nothing to do: refused, not ignored.
expect 2 "--cK has no effect with --knots 16 \(c_K scales the schedule's K_M; the pieces are fixed\)" -- "$bin" study minimax-rate --knots 16 --cK 9 --out "$tmp/never"
expect 2 "--schedule paper has no effect on K with --knots 16" -- "$bin" study minimax-rate --knots 16 --schedule paper --out "$tmp/never"
[[ ! -e "$tmp/never" ]] || { echo "FAIL: a refused study created its --out"; fail=$((fail + 1)); }
# A study run into another study's folder says that it replaces those outputs.
expect 0 "results in" -- "$bin" study rfa-vs-mlp --N 2 --d 4 --heads 8 --n 20,40 --seeds 2 --target key-poly:2 --no-figures --out "$tmp/shared"
expect 0 "warning: --out .*shared holds the outputs of study rfa-vs-mlp; this study's replace them" -- "$bin" study heads --N 2 --d 4 --heads 4,8,16 --n 40 --seeds 2 --no-figures --out "$tmp/shared"
# So does rate.
printf 'size,error\n100,0.5\n200,0.3\n400,0.2\n800,0.12\n' >"$tmp/rate-table.csv"
expect 0 "warning: --out .*shared holds the outputs of study heads; rate's replace them" -- "$bin" rate --data "$tmp/rate-table.csv" --out "$tmp/shared"
# rate refuses to replace the outputs of the study whose cells.csv it reads (that would remove it).
expect 0 "results in" -- "$bin" study minimax-rate --M 500,1000 --seeds 2 --no-figures --out "$tmp/ownrate"
expect 2 "--data .*ownrate/cells.csv is one of the outputs of the run in --out .*; write them to another folder" -- "$bin" rate --data "$tmp/ownrate/cells.csv" --size-col M --seed-col rep --out "$tmp/ownrate"
[[ -f "$tmp/ownrate/cells.csv" ]] || { echo "FAIL: rate removed its own --data"; fail=$((fail + 1)); }
# verify into a study's folder says that its outputs replace the study's, as study and rate do.
printf '[[claim]]\nid = "t.slope"\nstatement = "s"\nsource = "t"\nstudy = "minimax-rate"\nquantity = "slope"\ntheory = -0.5\nbound = "at-most"\ntolerance = 1\n[claim.params]\nM = "500,1000"\nseeds = 2\n' >"$tmp/t.toml"
expect 0 "warning: --out .*ownrate holds the outputs of study minimax-rate; verify's replace them" -- "$bin" verify --claims "$tmp/t.toml" --out "$tmp/ownrate"
# A study rerun without --resume over saved checkpoints says that it recomputes them.
expect 0 "note: .*shared/cells holds [0-9]+ checkpoints of an earlier run; without --resume" -- "$bin" study heads --N 2 --d 4 --heads 4,8,16 --n 40 --seeds 2 --no-figures --out "$tmp/shared"
expect 0 "wrote" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --lambda kfold:3 --out "$tmp/rfa/kfold3.json"
# An empty --out is an input error (exit 2), for every command that writes.
expect 2 "--out must name a file, got ''" -- "$bin" simulate pairwise --M 10 --out ""
expect 2 "--out must name a file, got ''" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --out ""
expect 2 "--out must name a folder, got ''" -- "$bin" rate --data "$tmp/rfa/data.csv" --out ""
expect 2 "--lambda: kfold:K needs an integer K in \[2, 100\]" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --lambda kfold:1 --out "$tmp/f.json"
expect 2 "unknown target|target" -- "$bin" simulate rfa --target quartic --out "$tmp/x.csv"
expect 0 "target first-key-poly:2" -- "$bin" simulate rfa --n 50 --N 3 --d 2 --target first-key-poly:2 --out "$tmp/fkp.csv"   # every study target
expect 2 "--heads must be" -- "$bin" fit rfa --data "$tmp/rfa/data.csv" --heads 0 --out "$tmp/f.json"
printf 'sample,key,x1,y\n0,0,0.5,1\n0,1,0.2,2\n1,0,0.1,1\n1,1,0.3,1\n' >"$tmp/rfa-bad.csv"
expect 2 "rfa-bad.csv:3:4: y must be the same" -- "$bin" fit rfa --data "$tmp/rfa-bad.csv" --out "$tmp/f.json"

# Option validation (exit 2, message names the option and value).
expect 2 "--M must be" -- "$bin" simulate pairwise --M 1 --out "$tmp/x.csv"
expect 2 "--N must be" -- "$bin" simulate pairwise --N 1 --out "$tmp/x.csv"
expect 2 "--d must be" -- "$bin" simulate pairwise --d 0 --out "$tmp/x.csv"
expect 2 "--r must" -- "$bin" simulate pairwise --d 3 --r 4 --out "$tmp/x.csv"
expect 2 "--r must" -- "$bin" simulate pairwise --r 0 --out "$tmp/x.csv"
expect 2 "--sigma must be >= 0" -- "$bin" simulate pairwise --sigma -1 --out "$tmp/x.csv"
expect 2 "weierstrass:b needs b > 0" -- "$bin" simulate pairwise --activation weierstrass:-1 --out "$tmp/x.csv"
expect 2 "error: --activation: unknown activation 'relu'; valid:" -- "$bin" simulate pairwise --activation relu --out "$tmp/x.csv"
expect 2 "error: --tokens: unknown token law 'cauchy'; valid:" -- "$bin" simulate pairwise --tokens cauchy --out "$tmp/x.csv"
# A name is refused with the option that gave it, named once, a list option as the list.
expect 2 "error: --activation: unknown activation 'relu:1'" -- "$bin" study rank-condition --activation relu:1 --out "$tmp/x"
expect 2 "error: --activations: unknown activation 'relu'" -- "$bin" study approximation --activations relu --out "$tmp/x"
expect 2 "error: --known-activations: kink:b needs b > 0" -- "$bin" study smoothness --known-activations kink:-1 --out "$tmp/x"
expect 2 "error: --token-laws: unknown token law 'cauchy'" -- "$bin" study coercivity --token-laws uniform,cauchy --out "$tmp/x"
expect 2 "must be an integer" -- "$bin" simulate pairwise --N eight --out "$tmp/x.csv"
awk -F, 'NR > 1 {$NF = "1e300"} {print}' OFS=, "$tmp/data.csv" >"$tmp/y300.csv"
# The joint fit runs on Y scaled to unit RMS: it fits such outputs and says that their risk is inf.
expect 0 "warning: the training risk overflows in the units of Y\^2" -- \
  "$bin" fit pairwise --data "$tmp/y300.csv" --rank 1 --knots 4 --restarts 1 --out "$tmp/f.json"
expect 2 "the outputs Y are not finite .*or so large that their squares overflow" -- \
  "$bin" fit pairwise --data "$tmp/y300.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"
awk -F, 'NR == 1 || $1 == 0' "$tmp/data.csv" >"$tmp/one.csv"
expect 2 "one.csv:5:1: every row has the same sample id, so the file has 1 sample; need at least 2 samples \(M >= 2\), got '0'" -- \
  "$bin" fit pairwise --data "$tmp/one.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"
expect 2 "degree.*0..10" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --degree 11 --knots 4 --out "$tmp/f.json"
expect 2 "--knots must be in 1\.\.2147483637, got 0" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 0 --out "$tmp/f.json"
expect 2 "--beta must be > 0" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --beta 0 --out "$tmp/f.json"
expect 2 "a < b" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 4 --range 1,1 --out "$tmp/f.json"
expect 2 "--ridge must be >= 0" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/data.A.csv" --knots 4 --ridge -1 --out "$tmp/f.json"
expect 2 "--seeds must be in 1..100000, got 0" -- "$bin" study minimax-rate --seeds 0 --out "$tmp/s"
# --no-figures: the same measurements, no PNG or SVG, and summary.json names no figure (also
# within the measurements' details); the closing line does not announce figures.
expect 0 "results in .*/nf/ \(summary.json, cells.csv\)$" -- "$bin" study minimax-rate --M 500,1000 --seeds 2 --no-figures --out "$tmp/nf"
expect 0 "figures\)$" -- "$bin" study minimax-rate --M 500,1000 --seeds 2 --out "$tmp/wf"
compgen -G "$tmp/nf/*.png" >/dev/null || compgen -G "$tmp/nf/*.svg" >/dev/null && { echo "FAIL: --no-figures drew a figure"; fail=$((fail + 1)); }
compgen -G "$tmp/wf/*.png" >/dev/null || { echo "FAIL: a study without --no-figures drew no figure"; fail=$((fail + 1)); }
grep -q '"figure' "$tmp/nf/summary.json" && { echo "FAIL: summary.json names a figure under --no-figures"; fail=$((fail + 1)); }
grep -q '"figure' "$tmp/wf/summary.json" || { echo "FAIL: summary.json names no figure without --no-figures"; fail=$((fail + 1)); }
cmp -s <(grep -v wall_seconds "$tmp/nf/summary.json" | grep -v '"figure') <(grep -v wall_seconds "$tmp/wf/summary.json" | grep -v '"figure') || { echo "FAIL: --no-figures changed the measurements"; fail=$((fail + 1)); }
# dimension-free draws one figure per activation and factor itself: the same rule.
expect 0 "results in .*/nf2/ \(summary.json, cells.csv\)$" -- "$bin" study dimension-free --M 500,1000 --seeds 2 --test-pairs 1000 --d-values 1,2 --N-values 8 --r-values 1 --activations bspline:3 --restarts 2 --no-figures --out "$tmp/nf2"
compgen -G "$tmp/nf2/*.png" >/dev/null || compgen -G "$tmp/nf2/*.svg" >/dev/null && { echo "FAIL: dimension-free --no-figures drew a figure"; fail=$((fail + 1)); }
grep -q '"figure' "$tmp/nf2/summary.json" && { echo "FAIL: dimension-free summary.json names a figure under --no-figures"; fail=$((fail + 1)); }
expect 2 "--M entries must be >= 2" -- "$bin" study minimax-rate --M 1,100 --out "$tmp/s"
# Options of the adaptive schedule, or of its penalty rule, are refused rather than ignored elsewhere.
expect 2 "--folds is an option of --schedule adaptive" -- "$bin" study minimax-rate --folds 3 --out "$tmp/s"
expect 2 "--penalty is an option of --schedule adaptive" -- "$bin" study minimax-rate --penalty 2 --out "$tmp/s"
expect 2 "--N-values has one value, 4, which makes no series .* differs from --N 8" -- "$bin" study dimension-free --N-values 4 --out "$tmp/s"
expect 2 "--r-values has one value, 2, which makes no series" -- "$bin" study dimension-free --r-values 2 --out "$tmp/s"
expect 2 "--penalty is an option of --select penalty" -- "$bin" study minimax-rate --schedule adaptive --penalty 2 --out "$tmp/s"
expect 2 "--seed must be a non-negative integer, got ''" -- "$bin" verify --profile quick --seed "" --out "$tmp/v"
expect 2 "did you mean 'sigma'" -- bash -c "printf 'sigmaa = 1\n' > '$tmp/s.toml' && '$bin' study minimax-rate --config '$tmp/s.toml' --out '$tmp/s'"
expect 2 "s2.toml: out: 'out' is an option of the run, not of the study; give --out on the command line" -- \
  bash -c "printf 'out = \"x\"\n' > '$tmp/s2.toml' && '$bin' study minimax-rate --config '$tmp/s2.toml' --out '$tmp/s'"
expect 2 "required|--out" -- "$bin" study minimax-rate
# Rate studies refuse activations without a rate (b <= 0) or, with A unknown, without phi' (degree 0).
expect 2 "bspline:1 has claimed smoothness b = 0" -- "$bin" study minimax-rate --activation bspline:1 --out "$tmp/s"
expect 2 "--activations: bspline:1 has claimed smoothness b = 0" -- "$bin" study dimension-free --activations bspline:1 --out "$tmp/s"
expect 2 "weierstrass:0.5 is fitted with spline degree floor\(b\) = 0" -- "$bin" study dimension-free --activations weierstrass:0.5 --out "$tmp/s"
expect 2 "--activation: weierstrass:0.5 is fitted" -- "$bin" study rank-condition --activation weierstrass:0.5 --out "$tmp/s"
expect 2 "" -- "$bin" frobnicate

# Data file validation (exit 2, file:line:column).
printf 'sample,token,x1,y\n0,0,0.5,1\n0,1,abc,2\n1,0,0.1,1\n1,1,0.2,1\n' >"$tmp/bad.csv"
expect 2 "bad.csv:3:3" -- "$bin" fit pairwise --data "$tmp/bad.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"
printf 'sample,token,x1,y\n0,0,0.5,1\n0,1,nan,2\n1,0,0.1,1\n1,1,0.2,1\n' >"$tmp/nan.csv"
expect 2 "nan.csv:3:3" -- "$bin" fit pairwise --data "$tmp/nan.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"
printf 'sample,token,x1,y\n0,0,0.5,1\n0,1,0.5\n' >"$tmp/short.csv"
expect 2 "short.csv:3" -- "$bin" fit pairwise --data "$tmp/short.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"
printf 'sample,token,x1,y\n0,0,0.5,1\n0,1,0.5,1\n1,0,0.1,1\n' >"$tmp/ragged.csv"
expect 2 "ragged.csv" -- "$bin" fit pairwise --data "$tmp/ragged.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"
printf '1,0\n0,1\n' >"$tmp/A2.csv"
expect 2 "A2.csv" -- "$bin" fit pairwise --data "$tmp/data.csv" --A "$tmp/A2.csv" --knots 4 --out "$tmp/f.json"
expect 2 "missing.csv" -- "$bin" fit pairwise --data "$tmp/missing.csv" --A "$tmp/data.A.csv" --knots 4 --out "$tmp/f.json"

# A data-driven penalty at an end of the extended lambda grid is a warning on standard error
# (first-key at N = 2 cannot be learned: GCV runs to the largest penalty), with the study's exit 0.
expect 0 "^attnrate: warning: [0-9]+ of 8 data-driven ridge penalties ended at an end of the lambda grid" -- \
  "$bin" study rfa-vs-mlp --n 125,250 --N 2 --seeds 2 --target first-key --threads 1 --out "$tmp/edge"
grep -q '"at_edge": [1-9]' "$tmp/edge/summary.json" || { echo "FAIL: summary.json should count the penalties at the edge"; fail=$((fail + 1)); }
# verify prints a run's warning once, naming the claims that share the run; each claim lists it.
"$bin" verify --profile quick --only 'rfa-vs-mlp.first-key-poly*' --threads 1 --out "$tmp/edge-verify" 2>"$tmp/edge-verify.err" >/dev/null
check "verify: one warning line for the shared run" test "$(grep -c '^attnrate: warning: ' "$tmp/edge-verify.err")" -eq 1
check "verify: the warning names both claims of the run" grep -q '^attnrate: warning: rfa-vs-mlp.first-key-poly:2.n2.rfa-cannot, rfa-vs-mlp.first-key-poly:2.n2.mlp-can: [0-9]* of [0-9]* data-driven ridge penalties' "$tmp/edge-verify.err"
check "verify: report.md lists the warning beside each claim" test "$(grep -c '^- warning: ' "$tmp/edge-verify/report.md")" -eq 2
check "verify: report.md gives each claim's seed" test "$(grep -c '^- seed: [0-9]' "$tmp/edge-verify/report.md")" -eq 2
check "verify: report.md says, at the quick profile, whether a claim is decisive there" \
  test "$(grep -c '^- decisive at quick sizes' "$tmp/edge-verify/report.md")" -eq 2
# The closing line says which undecided verdicts were expected at quick sizes.
# Two claims undecidable by design (an interval no run can make 1e-9 wide), marked so.
for id in nd.first nd.second; do
  cat >>"$tmp/nd.toml" <<TOML
[[claim]]
id = "$id"
statement = "s"
source = "s"
study = "minimax-rate"
quantity = "slope"
theory = -0.5
bound = "equal"
tolerance = 0.05
max-ci-width = 1e-9
quick-decisive = false
[claim.params]
activation = "weierstrass:0.5"
M = "200,400,800"
seeds = 2
test-pairs = 2000
TOML
done
out=$("$bin" verify --profile quick --claims "$tmp/nd.toml" --threads 2 --out "$tmp/nd-verify" 2>/dev/null)
check "verify: the closing line counts claims marked not decisive at quick sizes ($out)" \
  grep -q "2 inconclusive (all marked not decisive at quick sizes)" <<<"$out"

check_summary
