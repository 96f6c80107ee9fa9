#!/usr/bin/env bash
# A user's claims file, never seen by the code, through `attnrate verify --claims`: a true claim
# is consistent, a deliberately false one inconsistent, an at-most claim is judged one-sided, one
# selecting nothing missing with its reason, and the run exits 1; a file naming an unknown study
# exits 2 with file:line before anything runs.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/lib/check.sh"

# One study run (the three claims share their options): weierstrass:1, A known, small sweep.
cat >"$tmp/mine.toml" <<'TOML'
[[claim]]
id = "mine.true"
statement = "the minimax slope -2/3"
source = "test"
study = "minimax-rate"
quantity = "slope"
theory = -0.6667
bound = "equal"
tolerance = 0.1
max-ci-width = 1.0
[claim.params]
activation = "weierstrass:1"
M = "1000:8000:x2"
seeds = 4
test-pairs = 20000

[[claim]]
id = "mine.false"
statement = "a wrong rate M^-0.2"
source = "test"
study = "minimax-rate"
quantity = "slope"
theory = -0.2
bound = "equal"
tolerance = 0.05
[claim.params]
activation = "weierstrass:1"
M = "1000:8000:x2"
seeds = 4
test-pairs = 20000

[[claim]]
id = "mine.upper"
statement = "the error falls at least like M^-0.2 (an upper bound on the slope)"
source = "test"
study = "minimax-rate"
quantity = "slope"
theory = -0.2
bound = "at-most"
tolerance = 0.05
[claim.params]
activation = "weierstrass:1"
M = "1000:8000:x2"
seeds = 4
test-pairs = 20000
TOML

out=$("$bin" verify --claims "$tmp/mine.toml" --profile full --threads 2 --out "$tmp/v" 2>&1)
rc=$?
verdict() { python3 -c "import json,sys; print({c['id']: c['verdict'] for c in json.load(open('$tmp/v/summary.json'))['claims']}['$1'])"; }
check "verify exits 1 when a claim is not consistent (got $rc)" test "$rc" -eq 1
check "the true claim is consistent" test "$(verdict mine.true)" = consistent
check "the false claim is inconsistent" test "$(verdict mine.false)" = inconsistent
check "the at-most claim with the same theory is consistent (one-sided)" test "$(verdict mine.upper)" = consistent
check "the three claims share one study run" test "$(ls "$tmp/v/claims" | wc -l)" -eq 1
check "the report is written" test -s "$tmp/v/report.html"
check "the output names the verdicts" grep -q "1 inconsistent" <<<"$out"
check "the two-sided claims with a width rule are not warned about" test "$(grep -c "mine.true: consistent with no max-ci-width" <<<"$out")" -eq 0

# The same claim as mine.true without max-ci-width: consistent, with a warning that a run too
# small to decide would be consistent too (and a rule that it is not for the one with it).
sed -e '/^max-ci-width = 1.0$/d' -e 's/id = "mine.true"/id = "mine.loose"/' "$tmp/mine.toml" >"$tmp/loose.toml"
out=$("$bin" verify --claims "$tmp/loose.toml" --only mine.loose --profile full --threads 2 --out "$tmp/loose" 2>&1)
check "a two-sided claim without max-ci-width is warned about when consistent ($out)" \
  grep -q "warning: mine.loose: consistent with no max-ci-width: any interval that meets the theory passes" <<<"$out"
check "the report gives the warning" grep -q "consistent with no max-ci-width" "$tmp/loose/report.md"

# A claim selecting a curve the run does not have: missing, and the output says why.
cat >"$tmp/missing.toml" <<'TOML'
[[claim]]
id = "mine.missing"
statement = "a slope of an activation the run does not fit"
source = "test"
study = "smoothness"
quantity = "slope"
theory = -0.6667
bound = "equal"
tolerance = 0.1
[claim.select]
activation = "weierstrass:3"
[claim.params]
erm-activations = ""
known-activations = "weierstrass:1"
M-known = "500,1000"
seeds = 2
test-pairs = 1000
TOML
out=$("$bin" verify --claims "$tmp/missing.toml" --profile full --threads 2 --out "$tmp/m" 2>&1)
rc=$?
check "a missing measurement exits 1 (got $rc)" test "$rc" -eq 1
check "the output gives the reason under the verdict ($out)" grep -qF -- "-> missing
    the study reported no 'slope' measurement with activation = weierstrass:3; it reported:" <<<"$out"

# Only the true claim: exit 0.
out=$("$bin" verify --claims "$tmp/mine.toml" --only mine.true --profile full --threads 2 --out "$tmp/v" 2>&1)
rc=$?
check "verify exits 0 when every claim is consistent (got $rc)" test "$rc" -eq 0
check "a rerun without --resume notes that the saved checkpoints are recomputed" \
  grep -qE "note: .*/v/claims/\*/cells hold [0-9]+ checkpoints of an earlier run; without --resume" <<<"$out"

# An empty --only is refused (it would otherwise read as no filter and run every claim).
out=$("$bin" verify --claims "$tmp/mine.toml" --only '' --out "$tmp/empty-only" 2>&1)
rc=$?
check "an empty --only exits 2 (got $rc)" test "$rc" -eq 2
check "the message asks for a glob" grep -q -- "--only needs a glob over claim ids" <<<"$out"
check "nothing ran for the empty --only" test ! -e "$tmp/empty-only"

# A bad file: exit 2, file:line and a did-you-mean, nothing run.
sed 's/study = "minimax-rate"/study = "minmax-rate"/' "$tmp/mine.toml" >"$tmp/bad.toml"
out=$("$bin" verify --claims "$tmp/bad.toml" --out "$tmp/bad" 2>&1)
rc=$?
check "a claims file with an unknown study exits 2 (got $rc)" test "$rc" -eq 2
check "the message has file:line and a did-you-mean" grep -q "bad.toml:5: unknown study 'minmax-rate'; did you mean 'minimax-rate'?" <<<"$out"
check "nothing ran" test ! -e "$tmp/bad"

# A select value that is no token law, or a law the run does not have: exit 2 before the run.
cat >"$tmp/select.toml" <<'TOML'
[[claim]]
id = "c.typo"
statement = "s"
source = "t"
study = "coercivity"
quantity = "coercivity"
theory = 0.01
bound = "at-least"
tolerance = 0
[claim.select]
tokens = "gausian"
[claim.params]
token-laws = "uniform"
M = "250,1000"
seeds = 3
TOML
out=$("$bin" verify --claims "$tmp/select.toml" --out "$tmp/select" 2>&1)
rc=$?
check "a select value that is no token law exits 2 (got $rc)" test "$rc" -eq 2
check "the message names the select line's claim and the valid laws" \
  grep -q 'select.toml:11: \[claim.select\] tokens = "gausian": unknown token law' <<<"$out"
sed -i 's/tokens = "gausian"/tokens = "gaussian"/' "$tmp/select.toml"
out=$("$bin" verify --claims "$tmp/select.toml" --out "$tmp/select" 2>&1)
check "a token law the run does not list is refused before the run" \
  grep -q 'the run.s token-laws are "uniform" (.*select.toml:13), so it would measure none with this law' <<<"$out"
check "nothing ran for the bad selects" test ! -e "$tmp/select"

# One file named twice is said to be read twice, not a duplicate of itself.
out=$("$bin" list --claims "$tmp/mine.toml" --claims "$tmp/mine.toml" 2>&1)
rc=$?
check "a claims file given twice exits 2 (got $rc)" test "$rc" -eq 2
check "the message says it is read twice" grep -q "mine.toml is read twice (given twice, or as a file and in its folder)" <<<"$out"

# list shows the claims of a file and the quantities of a study.
check "list --claims names the claims" grep -q "mine.upper" <<<"$("$bin" list --claims "$tmp/mine.toml")"
out=$("$bin" list --claims "$tmp/bad.toml" 2>&1)
rc=$?
check "list --claims of a bad file exits 2 (got $rc)" test "$rc" -eq 2
check "list --claims of a bad file prints its problems, not the studies table" \
  test "$(head -c 200 <<<"$out" | grep -c "^studies")" -eq 0 -a -n "$(grep "bad.toml:5: unknown study" <<<"$out")"
check "list keeps a gap after a long range" grep -qE '\[-0\.8967, -0\.6967\]  +0\.07  +theory/' <<<"$("$bin" list)"
check "list --quantities names the quantity" grep -q "^  slope" <<<"$("$bin" list --quantities minimax-rate)"
# Columns sized to their longest entry: a long default never runs into its description.
check "list --quantities keeps a long default apart from its help" grep -qE \
  "^  known-activations +weierstrass:0.5,weierstrass:1,weierstrass:1.5,weierstrass:2,weierstrass:3  +phi fitted" \
  <<<"$("$bin" list --quantities smoothness)"
out=$("$bin" list --quantities minmax-rate 2>&1)
check "list --quantities of an unknown study exits 2 with a did-you-mean" grep -q "did you mean 'minimax-rate'" <<<"$out"

# docs/claims.md's table of quantities names every quantity of every study (a row with an empty
# study cell continues the study above; "a, b" cells name two quantities).
claims_doc="$(dirname "$0")/../docs/claims.md"
documented=$(awk -F'|' '/^\| study \| quantity/ {on = 1; next} on && !/^\|/ {exit}
  on && $2 !~ /---/ { if ($2 ~ /`/) { study = $2; gsub(/[` ]/, "", study) }
                      n = split($3, q, ","); for (i = 1; i <= n; i++) { gsub(/[` *]/, "", q[i]); print study, q[i] } }' "$claims_doc")
for study in $("$bin" list | awk '/^studies/ {on = 1; next} on && /^$/ {exit} on && /^  [a-z]/ {print $1}'); do
  for q in $("$bin" list --quantities "$study" | awk '/^quantities/ {on = 1; next} /^$/ {exit} on {print $1}'); do
    check "docs/claims.md lists $study's quantity $q" grep -qx "$study $q" <<<"$documented"
  done
done

# README's worked example is a valid claims file (its first toml block).
readme="$(dirname "$0")/../README.md"
awk '/^```toml( |$)/ {on = 1; next} on && /^```$/ {exit} on' "$readme" >"$tmp/readme.toml"
check "README's claims example is not empty" test -s "$tmp/readme.toml"
check "README's claims example is valid" "$bin" list --claims "$tmp/readme.toml"

check_summary
