#!/usr/bin/env bash
# `attnrate rate` contract: a table with a known exponent (-0.8) is fitted and judged in the right
# direction with the documented exit codes (0 consistent, 1 not consistent or inconclusive, 2 bad
# input), --out writes summary.json (numbers as numbers) and the figure and nothing outside it,
# and bad tables and options are refused with the file:line:column or the option named.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, expect, check_summary

# error = 3 size^-0.8 times a deterministic multiplicative wobble, 8 sizes x 5 seeds.
awk 'BEGIN { print "size,error,seed"; for (k = 0; k < 8; k++) for (s = 1; s <= 5; s++) {
  n = 100 * 2 ^ k; printf "%d,%.10g,%d\n", n, 3 * n ^ -0.8 * exp(0.15 * sin(1.7 * k + 2.3 * s)), s } }' >"$tmp/errors.csv"

expect 0 "^slope -0\.[78]" -- "$bin" rate --data "$tmp/errors.csv"
expect 0 "^size +cells +median error +local rate" -- "$bin" rate --data "$tmp/errors.csv"
expect 0 "-> consistent" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.8
expect 1 "-> inconsistent" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.3
expect 0 "-> consistent" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.5 --bound at-most
expect 1 "-> inconsistent" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.5 --bound at-least
expect 0 "-> consistent" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.9,-0.7 --bound within
expect 0 "-> consistent" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.7 --tolerance 0.2
expect 1 "-> inconclusive" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.8 --max-ci-width 0.0001

# --out: summary.json with numbers, the figure, and nothing written outside the folder.
before=$(ls -A "$tmp")
expect 0 "wrote .*summary.json" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.8 --tolerance 0.05 --out "$tmp/out"
check "only --out is added beside the data" test "$(comm -13 <(echo "$before") <(ls -A "$tmp"))" = out
check "summary.json holds the fit as numbers and the verdict" python3 -c "
import json, sys
j = json.load(open('$tmp/out/summary.json'))
f = j['fit']
assert isinstance(f['slope'], float) and abs(f['slope'] + 0.8) < 0.05, f
assert all(isinstance(v, float) for v in f['ci_t'] + f['ci_boot'])
assert f['cells'] == 40 and f['distinct_sizes'] == 8
assert len(j['sizes']) == 8 and j['sizes'][0]['local_rate'] is None and isinstance(j['sizes'][1]['local_rate'], float)
assert j['claim']['verdict'] == 'consistent' and j['claim']['theory'] == -0.8 and j['claim']['tolerance'] == 0.05
assert j['columns'] == {'size': 'size', 'error': 'error', 'seed': 'seed'}
"
if command -v gnuplot >/dev/null; then
  check "the figure is written (png)" test -s "$tmp/out/rate.png"
  check "the figure is written (svg)" test -s "$tmp/out/rate.svg"
fi
expect 0 "wrote" -- "$bin" rate --data "$tmp/errors.csv" --out "$tmp/out"   # a rerun replaces the files
check "the output list names rate's set" grep -qx "summary.json" "$tmp/out/.attnrate-outputs"
# Another command's set in --out (here a verify report, as its output list names it) is replaced
# as a whole: its files go, nothing else does.
mkdir -p "$tmp/mixed"
printf 'summary.json\nreport.md\nreport.html\n' >"$tmp/mixed/.attnrate-outputs"
echo old >"$tmp/mixed/report.md"
echo old >"$tmp/mixed/report.html"
echo mine >"$tmp/mixed/notes.txt"
expect 0 "wrote" -- "$bin" rate --data "$tmp/errors.csv" --out "$tmp/mixed"
check "the previous set's report.md is removed" test ! -e "$tmp/mixed/report.md"
check "the previous set's report.html is removed" test ! -e "$tmp/mixed/report.html"
check "a file of no set stays" test -s "$tmp/mixed/notes.txt"

# Columns by name.
sed '1s/.*/n,mse,run/' "$tmp/errors.csv" >"$tmp/renamed.csv"
expect 2 "renamed.csv:1: no column 'size' in the header 'n,mse,run'.*--size-col" -- "$bin" rate --data "$tmp/renamed.csv"
expect 0 "^slope -0\.[78]" -- "$bin" rate --data "$tmp/renamed.csv" --size-col n --error-col mse --seed-col run
expect 2 "no column 'seed'" -- "$bin" rate --data "$tmp/renamed.csv" --size-col n --error-col mse --seed-col seed

# Bad tables: exit 2 naming file:line:column.
printf 'size,error\n100,0.5\n200,0.3\n400,abc\n' >"$tmp/text.csv"
expect 2 "text.csv:4:2: error is not a number, got 'abc'" -- "$bin" rate --data "$tmp/text.csv"
printf 'size,error\n100,0.5\n-200,0.3\n400,0.2\n' >"$tmp/negsize.csv"
expect 2 "negsize.csv:3:1: size must be > 0" -- "$bin" rate --data "$tmp/negsize.csv"
printf 'size,error\n100,0.5\n200,0\n400,0.2\n' >"$tmp/zero.csv"
expect 2 "zero.csv:3:2: error must be > 0" -- "$bin" rate --data "$tmp/zero.csv"
printf 'size,error\n100,0.5\n100,0.3\n100,0.2\n' >"$tmp/one.csv"
expect 2 "one.csv: need at least 2 distinct values of size" -- "$bin" rate --data "$tmp/one.csv"
printf 'size,err\n100,0.5\n200,0.3\n400,0.2\n' >"$tmp/nocol.csv"
expect 2 "nocol.csv:1: no column 'error' .*did you mean 'err'" -- "$bin" rate --data "$tmp/nocol.csv"
expect 2 "missing.csv: cannot open" -- "$bin" rate --data "$tmp/missing.csv"
expect 2 "a directory" -- "$bin" rate --data "$tmp"

# Bad options: exit 2 naming the option, before anything is written.
expect 2 "--tolerance must be >= 0, got -1" -- "$bin" rate --data "$tmp/errors.csv" --theory -0.8 --tolerance -1 --out "$tmp/never"
expect 2 "--bound needs --theory" -- "$bin" rate --data "$tmp/errors.csv" --bound at-most --out "$tmp/never"
expect 2 "--bound must be equal, at-most, at-least or within" -- "$bin" rate --data "$tmp/errors.csv" --theory -1 --bound below
expect 2 "--theory must be two finite numbers" -- "$bin" rate --data "$tmp/errors.csv" --theory -1 --bound within
expect 2 "--max-ci-width must be > 0" -- "$bin" rate --data "$tmp/errors.csv" --theory -1 --max-ci-width 0
expect 2 "--data is required" -- "$bin" rate
expect 2 "did you mean '--theory'" -- "$bin" rate --data "$tmp/errors.csv" --theroy -0.8
check "a refused run creates no --out folder" test ! -e "$tmp/never"
# Outputs: --out must be a folder, and must not hold the run's own input as an output.
expect 2 "--out .*errors.csv is a regular file" -- "$bin" rate --data "$tmp/errors.csv" --out "$tmp/errors.csv"
mkdir -p "$tmp/self" && cp "$tmp/errors.csv" "$tmp/self/summary.json"
expect 2 "same file as --data" -- "$bin" rate --data "$tmp/self/summary.json" --out "$tmp/self"

check_summary
