#!/usr/bin/env bash
# Hostile input, whole program: every case checks the exit code, the message and that no file
# outside the run's output changed (paths, types, inodes, modes and contents of everything else
# in the scratch folder); refusals must come within a second of CPU time. Cases that need root (a device
# node made with mknod, a small tmpfs for "disk full") are skipped, and said so, without it.
set -u
bin="$1"
tmp=$(mktemp -d)
small="$tmp/small"
run_vars=$(mktemp)  # run()'s exit code and output, outside the snapshotted folder
cleanup() {
  kill -9 $(jobs -p) 2>/dev/null
  mountpoint -q "$small" && umount "$small"
  rm -rf "$tmp" "$run_vars"
}
trap cleanup EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, snapshot, check_summary
S=(--M 200,400 --seeds 2 --test-pairs 1000 --bootstrap 100 --threads 1)

# run CODE PATTERN OUTPUT -- command...: exit CODE, output matching PATTERN, nothing outside
# OUTPUT changed, and unless CODE is 0 refused within a second of CPU time (user + system: a
# refusal does no work; wall time would measure the machine's load instead).
run() {
  local code=$1 pattern=$2 output=$3
  shift 4
  local before after out rc ms cpu
  before=$(snapshot "$output")
  cpu=$( { TIMEFORMAT='%3U %3S'; time { out=$(timeout -s KILL 60 "$@" 2>&1); rc=$?; declare -p out rc >"$run_vars"; }; } 2>&1 )
  source "$run_vars"
  ms=$(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { printf "%d", (u + s) * 1000 }')
  after=$(snapshot "$output")
  local what="${*:2:4} ..."
  check "$what: exit $rc, want $code ($out)" test "$rc" -eq "$code"
  check "$what: message /$pattern/, got: $out" grep -qE -- "$pattern" <<<"$out"
  check "$what: nothing outside $output changed" test "$before" == "$after"
  [[ $code -eq 0 ]] || check "$what: refused in $ms ms of CPU time, want < 1000" test "$ms" -lt 1000
  [[ $output != "$none" ]] || check "$what: no output created" test ! -e "$none"
}

mkdir -p "$tmp/in" "$tmp/out"
"$bin" simulate pairwise --M 300 --N 4 --d 3 --r 1 --seed 3 --out "$tmp/in/data.csv" >/dev/null
data=(--data "$tmp/in/data.csv" --A "$tmp/in/data.A.csv")
none="$tmp/out/none"  # an output no refused command may create (checked by run)

# a. Sizes: refused, never truncated; memory checked before allocation.
run 2 "--knots must be in 1..2147483637, got 4294967297" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 4294967297 --degree 1 --out "$none"
run 0 "degree = 10" "$tmp/out/beta" -- "$bin" fit pairwise "${data[@]}" --beta 1e10 --out "$tmp/out/beta/fit.json"
run 2 "weierstrass:b needs b <= 127, got 1e308: the finest term's amplitude" "$none" -- \
  "$bin" study minimax-rate --activation weierstrass:1e308 "${S[@]}" --out "$none"
out=$("$bin" fit pairwise "${data[@]}" --knots 4 --threads -1 --out "$none" 2>&1)
check "--threads -1: exit 2 with a short message ($out)" test $? -eq 2 -a "${#out}" -lt 120
check "--threads -1: names the range" grep -q -- "--threads: must be in 0..4096 (0 = all cores), got '-1'" <<<"$out"
run 2 "fit pairwise needs about 2.04 TiB of memory .*basis size 200003.*raise --max-memory" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 200000 --out "$none"
run 2 "needs about .*more than the budget of 10 MiB \(--max-memory 10M\); lower --knots" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 2000 --max-memory 10M --out "$none"
run 2 "--max-memory must be a size in bytes .*got 'lots'" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 4 --max-memory lots --out "$none"
run 2 "simulate pairwise needs about .* EiB of memory" "$none" -- \
  "$bin" simulate pairwise --M 9007199254740992 --out "$none"
run 2 "--M must be in 2..9007199254740992, got 9007199254740993" "$none" -- \
  "$bin" simulate pairwise --M 9007199254740993 --out "$none"
run 2 "simulate rfa needs about" "$none" -- "$bin" simulate rfa --n 100000000000 --out "$none"
# List options hold the ranges of their single-valued kin, refused before any work.
run 2 "--N entries must be <= 1000000, got 1000001" "$none" -- "$bin" study kernel-limit --N 2,1000001 --out "$none"
run 2 "--N entries must be <= 1000000, got 1000001" "$none" -- "$bin" study rfa-vs-mlp --N 1000001 --out "$none"
run 2 "--heads entries must be <= 1000000, got 1000001" "$none" -- "$bin" study heads --heads 1000,1000001 --out "$none"
run 2 "--d entries must be <= 10000, got 100000000000" "$none" -- \
  "$bin" study target-complexity --d 100000000000 --out "$none"

# b. Activation parameters within what double precision represents.
run 2 "weierstrass:b needs b >= 0.16, got 1e-300: .*2\^52" "$none" -- \
  "$bin" simulate pairwise --activation weierstrass:1e-300 --out "$none"
run 2 "weierstrass:b needs b >= 0.16, got 1e-8" "$none" -- "$bin" simulate pairwise --activation weierstrass:1e-8 --out "$none"
run 2 "kink:b needs b <= 64" "$none" -- "$bin" simulate pairwise --activation kink:1000 --out "$none"

# c. Bounded readers: regular files or FIFOs only, size and line limits.
run 2 "/dev/zero: a character device, not a file to read" "$none" -- \
  "$bin" fit pairwise --data /dev/zero --A "$tmp/in/data.A.csv" --knots 4 --out "$none"
run 2 "/dev/zero: a character device" "$none" -- \
  "$bin" fit pairwise --data "$tmp/in/data.csv" --A /dev/zero --knots 4 --out "$none"
run 2 "/dev/zero: a character device" "$none" -- "$bin" study minimax-rate --config /dev/zero "${S[@]}" --out "$none"
run 2 "in: a directory, not a file to read" "$none" -- "$bin" study minimax-rate --config "$tmp/in" "${S[@]}" --out "$none"
run 2 "data.csv: larger than 1 KiB, .*--max-input-size" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 4 --max-input-size 1K --out "$none"
run 2 "data.csv:2: line longer than 30 bytes, .*--max-line-length" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 4 --max-line-length 30 --out "$none"
printf 'sigma = 1\n' >"$tmp/in/study.toml"
run 2 "study.toml: larger than 4 bytes" "$none" -- \
  "$bin" study minimax-rate --config "$tmp/in/study.toml" --max-input-size 4 "${S[@]}" --out "$none"
mkfifo "$tmp/in/pipe"
timeout 60 cat "$tmp/in/data.csv" >"$tmp/in/pipe" &
run 0 "fit: K = 4" "$tmp/out/fifo" -- \
  "$bin" fit pairwise --data "$tmp/in/pipe" --A "$tmp/in/data.A.csv" --knots 4 --out "$tmp/out/fifo/fit.json"
wait

# d. Writers never destroy: regular files only, never an input, temp files always removed.
if [[ $(id -u) -eq 0 ]] && mknod "$tmp/in/null" c 1 3 2>/dev/null; then
  run 2 "null: a character device; attnrate writes only regular files" "$none" -- \
    "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/in/null"
  check "the device node is still a device" test -c "$tmp/in/null"
else
  echo "skip: device node target (needs root for mknod)"
fi
run 2 "pipe: a FIFO \(named pipe\); attnrate writes only regular files" "$none" -- \
  "$bin" simulate pairwise --M 300 --out "$tmp/in/pipe"
run 2 "--out .*data.csv is the same file as --data" "$none" -- "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/in/data.csv"
ln -s data.csv "$tmp/in/alias.csv"
run 2 "is the same file as --data" "$none" -- "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/in/alias.csv"
run 2 "is the same file as --A" "$none" -- "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/in/data.A.csv"
cp "$tmp/in/data.A.csv" "$tmp/in/m.phi.csv"
run 2 "--out \(phi beside it\) .*m.phi.csv is the same file as --A" "$none" -- \
  "$bin" fit pairwise --data "$tmp/in/data.csv" --A "$tmp/in/m.phi.csv" --knots 4 --out "$tmp/in/m.json"
run 2 "in: a directory; attnrate writes only regular files" "$none" -- "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/in"
check "no temp file beside a refused folder target" test -z "$(ls -d "$tmp"/in.tmp.* 2>/dev/null)"
ln -s nowhere "$tmp/in/dangling.json"
run 2 "dangling.json: a symbolic link that does not lead to a regular file" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/in/dangling.json"
mkdir -p "$tmp/out/link"
printf 'old\n' >"$tmp/out/link/real.json"
ln -s real.json "$tmp/out/link/fit.json"
run 0 "wrote" "$tmp/out/link" -- "$bin" fit pairwise "${data[@]}" --knots 4 --out "$tmp/out/link/fit.json"
check "a symlinked output stays a symlink" test -L "$tmp/out/link/fit.json"
check "a symlinked output's target is replaced" grep -q '"pieces": 4' "$tmp/out/link/real.json"

# Sidecars are named after the output: two simulations in one folder keep their own A.
two="$tmp/out/two"
run 0 "wrote .*a.csv .*a.A.csv \(A\) and .*a.truth.json" "$two" -- "$bin" simulate pairwise --M 300 --seed 1 --out "$two/a.csv"
cp "$two/a.A.csv" "$tmp/a.A.before"
run 0 "b.A.csv" "$two" -- "$bin" simulate pairwise --M 300 --seed 2 --out "$two/b.csv"
check "the first simulation's A is kept" cmp -s "$two/a.A.csv" "$tmp/a.A.before"
check "the second simulation has its own A" test -f "$two/b.A.csv" -a -f "$two/b.truth.json"
check "no A.csv without a prefix" test ! -e "$two/A.csv"
check "truth.json names the activation and its seed" grep -q '"activation_seed"' "$two/a.truth.json"
run 0 "wrote .*fit.json and .*fit.phi.csv" "$two" -- \
  "$bin" fit pairwise --data "$two/a.csv" --A "$two/a.A.csv" --knots 4 --out "$two/fit.json"
check "fit.phi.csv written beside fit.json" test "$(wc -l <"$two/fit.phi.csv")" -eq 1002

# Disk full: a 64 KiB tmpfs; the message names the file, nothing half-written stays.
mkdir -p "$small"
if [[ $(id -u) -eq 0 ]] && mount -t tmpfs -o size=64k tmpfs "$small" 2>/dev/null; then
  run 3 "disk full: .*small/data.csv" "$small" -- "$bin" simulate pairwise --M 20000 --out "$small/data.csv"
  check "nothing left on the full disk ($(ls -A "$small"))" test -z "$(ls -A "$small")"
  umount "$small"
else
  echo "skip: disk full (needs root to mount a small tmpfs)"
fi
# A file size limit (ulimit -f, in KiB): the write fails and the run ends with exit 3, its
# temporary files removed (SIGXFSZ would kill it midway, leaving them).
limited=(bash -c 'ulimit -f 1; exec "$@"' limited)
mkdir -p "$tmp/out/fsize"
run 3 "cannot write .*fsize/fit.json \(File too large\)" "$tmp/out/fsize" -- \
  "${limited[@]}" "$bin" fit pairwise "${data[@]}" --knots 4 --degree 1 --out "$tmp/out/fsize/fit.json"
check "fit: nothing left past the file size limit ($(ls -A "$tmp/out/fsize"))" test -z "$(ls -A "$tmp/out/fsize")"
run 3 "cannot write .*\(File too large\)" "$tmp/out/fsize" -- \
  "${limited[@]}" "$bin" study minimax-rate "${S[@]}" --no-figures --out "$tmp/out/fsize/study"
left=$(find "$tmp/out/fsize" -name '*.tmp*' -o -name '.attnrate-staging')
check "study: no temporary file left past the file size limit ($left)" test -z "$left"

# e. One run per output folder: a second run stops at once; the lock goes with its holder, however
# it ends (SIGINT: the destructor; SIGKILL: the kernel).
locked="$tmp/out/locked"
slow=(study minimax-rate --M 500:64000:x2 --seeds 8 --test-pairs 1000 --bootstrap 100 --threads 1)
start_holder() {  # a slow study on $locked, stopped once it holds the lock
  "$bin" "${slow[@]}" --out "$locked" >/dev/null 2>&1 &
  holder=$!
  for _ in $(seq 1 1000); do
    [[ -s "$locked/.attnrate.lock" ]] && break
    sleep 0.01
  done
  kill -STOP "$holder"
}
start_holder
run 2 "--out .*locked is in use by another attnrate run \(pid $holder\); wait for it to finish or choose another --out" \
  "$locked" -- "$bin" study minimax-rate "${S[@]}" --out "$locked"
run 2 "is in use by another attnrate run \(pid $holder\)" "$locked" -- "$bin" verify --profile quick --out "$locked"
kill -INT "$holder"
kill -CONT "$holder"
wait "$holder"
rc=$?
check "the holder was interrupted (exit $rc, want 130)" test "$rc" -eq 130
run 0 "results in" "$locked" -- "$bin" study minimax-rate "${S[@]}" --out "$locked"
check "the lock file stays in a used folder" test -f "$locked/.attnrate.lock"
start_holder
kill -9 "$holder"
wait "$holder" 2>/dev/null
run 0 "results in" "$locked" -- "$bin" study minimax-rate "${S[@]}" --out "$locked"

printf '[[claim]]\nid = "x"\n' >"$tmp/in/bad_claims.toml"
run 2 "bad_claims.toml:1: claim is missing the field" "$none" -- "$bin" verify --claims "$tmp/in/bad_claims.toml" --out "$none"

# f. A study's --out must be a folder.
printf 'keep\n' >"$tmp/in/existing"
run 2 "--out .*existing is a regular file; it must be a folder for the outputs" "$none" -- \
  "$bin" study minimax-rate "${S[@]}" --out "$tmp/in/existing"

# g. Unknown commands, studies and options are named with the closest valid one.
run 2 "unknown study 'minmax-rate'; did you mean 'minimax-rate'\?" "$none" -- "$bin" study minmax-rate --out "$none"
run 2 "unknown command 'verfy'; did you mean 'verify'\?" "$none" -- "$bin" verfy --out "$none"
run 2 "unknown option '--knts' of 'attnrate fit pairwise'; did you mean '--knots'\?" "$none" -- \
  "$bin" fit pairwise "${data[@]}" --knts 4 --out "$none"
run 2 "unknown option '--seedz' of 'attnrate study minimax-rate'; did you mean '--seeds'\?" "$none" -- \
  "$bin" study minimax-rate --seedz=2 --out "$none"
run 2 "unknown model 'pairwsie'; did you mean 'pairwise'\?" "$none" -- "$bin" fit pairwsie --out "$none"
run 2 "'attnrate study' needs one of: minimax-rate" "$none" -- "$bin" study
# An option given twice, and a value of the wrong type, get the same "attnrate: error:" form.
run 2 "^attnrate: error: option '--threads' of 'attnrate study minimax-rate' is given twice; give it once" "$none" -- \
  "$bin" study minimax-rate --threads 1 --threads 2 --out "$none"
run 2 "^attnrate: error: --threads: must be in 0..4096 \(0 = all cores\), got 'two'" "$none" -- "$bin" study minimax-rate --threads two --out "$none"
run 2 "^attnrate: error: --threads: must be in 0..4096 \(0 = all cores\), got '1\.5'" "$none" -- "$bin" study minimax-rate --threads 1.5 --out "$none"
# An option without its value (last word, or followed by the next option) names what it needs.
run 2 "^attnrate: error: option '--threads' of 'attnrate study minimax-rate' needs a value: --threads INT$" "$none" -- "$bin" study minimax-rate --out "$none" --threads
run 2 "^attnrate: error: option '--profile' of 'attnrate verify' needs a value: --profile NAME$" "$none" -- "$bin" verify --profile --out "$none"
# A negative size is an integer below the smallest size, not a malformed list.
run 2 "^attnrate: error: --M entries must be >= 2, got -5$" "$none" -- "$bin" study minimax-rate --M 500,-5,1000 --out "$none"
# A flag takes no value: the option given twice after it is the one named.
run 2 "^attnrate: error: option '--seeds' of 'attnrate study minimax-rate' is given twice; give it once$" "$none" -- "$bin" study minimax-rate --no-figures --seeds 2 --seeds 3 --out "$none"
# Without gnuplot a study stops before any work unless told to draw no figures.
run 2 "^attnrate: error: study minimax-rate draws its figures with gnuplot, which is not on PATH: install gnuplot-nox \(./scripts/install-deps.sh does\), or pass --no-figures$" "$none" -- env PATH=/nonexistent "$bin" study minimax-rate --M 500,1000 --seeds 2 --out "$none"
run 0 "results in" "$tmp/out/nogp" -- env PATH=/nonexistent "$bin" study minimax-rate --M 500,1000 --seeds 2 --no-figures --out "$tmp/out/nogp"
run 2 "^attnrate: error: verify draws each claim's figure with gnuplot, which is not on PATH" "$none" -- env PATH=/nonexistent "$bin" verify --profile quick --out "$none"
# Too few cells for a rate: refused before any work.
run 2 "^attnrate: error: --M and --seeds give 2 cells; the rate fit needs at least 3: add a sample size or a seed$" "$none" -- "$bin" study minimax-rate --M 500,1000 --seeds 1 --out "$none"
# A Gram matrix too thin to invert names the options that help.
run 2 "^attnrate: error: --gram-pairs 1000: the L2\(rho\) Gram matrix of the 8 pieces of degree 2 under tokens gaussian is not positive definite .*; raise --gram-pairs or lower --knots$" "$tmp/out/gram" -- "$bin" study coercivity --gram-pairs 1000 --token-laws gaussian --M 500,1000 --seeds 2 --out "$tmp/out/gram"
# A bound set by another option names that option.
run 2 "^attnrate: error: --r-values \(default\): r = 2 exceeds --d = 1 \(A is d x d of rank r\); lower the r values or raise d$" "$none" -- "$bin" study dimension-free --d 1 --out "$none"
run 2 "^attnrate: error: --d-values: d = 1 is below --r = 3 \(A is d x d of rank r\); drop it or lower r$" "$none" -- "$bin" study rank-condition --d-values 1,2,4 --r 3 --out "$none"
run 2 "^attnrate: error: --d-values: '0' is not an integer in 1..100000" "$none" -- "$bin" study dimension-free --d-values 0,5 --out "$none"
run 2 "^attnrate: error: --r must be at most --d = 5 \(A is d x d of rank r\), got 10" "$none" -- "$bin" study minimax-rate --r 10 --out "$none"
run 2 "^attnrate: error: --r \(default\) must be at most --d = 1 \(A is d x d of rank r\), got 2" "$none" -- "$bin" study minimax-rate --d 1 --out "$none"
run 2 "^attnrate: error: --mark must be >= 1e-12 and <= 1, got -1$" "$none" -- "$bin" study coercivity --mark -1 --out "$none"
run 2 "^attnrate: error: --mark must be >= 1e-12 and <= 1, got 1e300$" "$none" -- "$bin" study coercivity --mark 1e300 --out "$none"
run 2 "^attnrate: error: --mark must be >= 1e-12 and <= 1, got 1e-310$" "$none" -- "$bin" study coercivity --mark 1e-310 --out "$none"

# h. A study's outputs are one set: a run that fails after its cells (here: at its figures, with a
# gnuplot that fails) leaves the previous summary, table and figures byte for byte; its finished
# cells stay for --resume. A successful rerun with other options leaves no figure of the old set.
set_state() {  # the outputs of folder $1 (not its checkpoints, nor the lock, which holds the pid): names and contents
  (cd "$1" && find . \( -path ./cells -o -name .attnrate.lock \) -prune -o -type f -print | sort &&
    find . \( -path ./cells -o -name .attnrate.lock \) -prune -o -type f -print0 | sort -z | xargs -0 -r md5sum)
}
mkdir -p "$tmp/badbin"
printf '#!/bin/sh\ncat >/dev/null\necho "fake gnuplot: cannot draw" >&2\nexit 1\n' >"$tmp/badbin/gnuplot"
chmod +x "$tmp/badbin/gnuplot"
R=(study rfa-vs-mlp --N 2,4 --heads 4 --n 20,40 --seeds 2 --test-n 10000 --bootstrap 100 --lambda 0.01 --threads 1)
sets="$tmp/out/sets"
"$bin" "${R[@]}" --target key-poly:2,mixed:2 --out "$sets" >/dev/null 2>&1
check "first set: a figure per target" test -f "$sets/rfa-vs-mlp-key-poly-2.png" -a -f "$sets/rfa-vs-mlp-mixed-2.png"
before_set=$(set_state "$sets")
cells_first=$(cd "$sets/cells" && md5sum ./*)
before=$(snapshot "$sets")
out=$(PATH="$tmp/badbin:$PATH" "$bin" "${R[@]}" --target key-poly:2,first-key --out "$sets" 2>&1)
rc=$?
check "failing figures: exit $rc, want 3 ($out)" test "$rc" -eq 3
check "failing figures: names gnuplot's message ($out)" grep -q "gnuplot failed while writing .*fake gnuplot: cannot draw" <<<"$out"
check "failing figures: the previous set is byte-identical" test "$before_set" == "$(set_state "$sets")"
check "failing figures: nothing outside the output changed" test "$before" == "$(snapshot "$sets")"
check "failing figures: no staging folder left" test ! -e "$sets/.attnrate-staging" -a ! -e "$sets/.attnrate-commit"
cells_failed=$(cd "$sets/cells" && md5sum ./*)
check "failing figures: the failed run's cells are saved for --resume" test "$cells_failed" != "$cells_first"
run 0 "results in" "$sets" -- "$bin" "${R[@]}" --target key-poly:2,first-key --resume --out "$sets"
check "rerun with --resume: the saved cells are reused" test "$cells_failed" == "$(cd "$sets/cells" && md5sum ./*)"
check "rerun: the new target's figure" test -f "$sets/rfa-vs-mlp-first-key.png" -a -f "$sets/rfa-vs-mlp-first-key.svg"
check "rerun: no figure of the old set's other target" test ! -e "$sets/rfa-vs-mlp-mixed-2.png" -a ! -e "$sets/rfa-vs-mlp-mixed-2.svg"
check "rerun: the output list names the new set" grep -qx "rfa-vs-mlp-first-key.png" "$sets/.attnrate-outputs"
check "rerun: summary and figures agree" grep -q "rfa-vs-mlp-first-key.png" "$sets/summary.json"
# A run that died after staging (SIGKILL) leaves a staging folder; the next run discards it.
mkdir -p "$sets/.attnrate-staging" && printf 'half\n' >"$sets/.attnrate-staging/summary.json"
run 0 "results in" "$sets" -- "$bin" "${R[@]}" --target key-poly:2,first-key --resume --out "$sets"
check "a dead run's staging folder is discarded" test ! -e "$sets/.attnrate-staging"
check "...and never committed" test "$(head -c 4 "$sets/summary.json")" != "half"
# The output list is never followed out of --out: entries with '..', absolute or through a link.
printf 'keep\n' >"$tmp/in/outside"
ln -s "$tmp/in" "$sets/link"
printf '../in/outside\n%s\nlink/outside\nsummary.json\n' "$tmp/in/outside" >"$sets/.attnrate-outputs"
run 0 "results in" "$sets" -- "$bin" "${R[@]}" --target key-poly:2,first-key --resume --out "$sets"
check "a hostile output list removes nothing outside --out" test -f "$tmp/in/outside"
rm "$sets/link"
# verify: reports and the claims' study outputs are one set as well.
vset="$tmp/out/vset"
cat >"$tmp/in/small_claims.toml" <<'TOML'
[[claim]]
id = "small.n-ratio"
statement = "a small run for the output-set test"
source = "tests/hostile_input.sh"
study = "rfa-vs-mlp"
quantity = "n-ratio"
bound = "at-least"
theory = 1
tolerance = 0.1
[claim.select]
target = "key-poly:2"
N = 2
[claim.params]
target = "key-poly:2"
N = "2,4"
heads = 4
n = "20,40"
seeds = 2
test-n = 10000
bootstrap = 100
lambda = "0.01"
TOML
V=(verify --claims "$tmp/in/small_claims.toml" --profile full --threads 1)
"$bin" "${V[@]}" --out "$vset" >/dev/null 2>&1
check "verify: a first set" test -f "$vset/report.html" -a -f "$vset/claims/small.n-ratio/summary.json"
vbefore=$(set_state "$vset")
out=$(PATH="$tmp/badbin:$PATH" "$bin" "${V[@]}" --resume --out "$vset" 2>&1)
rc=$?
check "verify with failing figures: exit $rc, want 3 ($out)" test "$rc" -eq 3
check "verify with failing figures: names gnuplot" grep -q "gnuplot failed" <<<"$out"
check "verify with failing figures: reports and study outputs unchanged" test "$vbefore" == "$(set_state "$vset")"

# i. Study sizes are weighed against the memory budget before anything is allocated.
run 2 "study minimax-rate: --test-pairs 1000000000 with --d 5 needs about 82 GiB of fresh token pairs .*the memory budget is 1 GiB \(--max-memory 1G\); lower --test-pairs, or raise --max-memory" \
  "$none" -- "$bin" study minimax-rate --test-pairs 1000000000 --max-memory 1G --out "$none"
run 2 "study minimax-rate: --knots 1000000000 needs about .* EiB of normal equations" "$none" -- \
  "$bin" study minimax-rate --knots 1000000000 --out "$none"
run 2 "study minimax-rate: --M 1000000000000 with --N 8, --d 5 needs about .* of training tokens" "$none" -- \
  "$bin" study minimax-rate --M 1000,1000000000000 --out "$none"
run 2 "study approximation: --M 100000000000 with --N 4, --d 2 needs about .* of training tokens" "$none" -- \
  "$bin" study approximation --M 100000000000 --out "$none"
run 2 "study coercivity: --gram-pairs 1000000000 with --d 5 needs about .* of fresh token pairs" "$none" -- \
  "$bin" study coercivity --gram-pairs 1000000000 --max-memory 4G --out "$none"
run 2 "study dimension-free: --M 1000000000000 with --N 8, --d-values up to 30 needs about" "$none" -- \
  "$bin" study dimension-free --M 1000,1000000000000 --out "$none"
run 2 "study smoothness: --M 1000000000000 with --N 8, --d 5 needs about .*lower --M or --M-known" "$none" -- \
  "$bin" study smoothness --M-known 1000,1000000000000 --out "$none"
run 2 "study rank-condition: --M 10000000000 with --N 8, --d-values up to 32 needs about" "$none" -- \
  "$bin" study rank-condition --M 10000000000 --out "$none"
run 2 "study rfa-vs-mlp: --heads 1000000 with --d 8, --n 16000, --test-n 10000 needs about .* of feature matrices" "$none" -- \
  "$bin" study rfa-vs-mlp --heads 1000000 --out "$none"
run 2 "study biased-weights: --heads 100000 with --d 8, --n 8000, --test-n 100000000 needs about" "$none" -- \
  "$bin" study biased-weights --heads 100000 --test-n 100000000 --out "$none"
run 2 "study target-complexity: --n 10000000 and --test-n 10000 with --N 1000000, --d 16 needs about .* of attention inputs" "$none" -- \
  "$bin" study target-complexity --N 1000000 --n 32,10000000 --out "$none"
run 2 "study kernel-limit: --n 100000000 with --test-n 2000 needs about .* of kernel matrices" "$none" -- \
  "$bin" study kernel-limit --n 64,100000000 --out "$none"
run 2 "study heads: --n 1000000 with --test-n 10000 needs about .* of kernel matrices" "$none" -- \
  "$bin" study heads --n 1000000 --out "$none"
run 2 "--max-memory must be a size in bytes .*got 'lots'" "$none" -- "$bin" study heads --max-memory lots --out "$none"

# j. A command with nothing to resume stops at once on SIGINT or SIGTERM, not after its fit: exit
# 128 + signal, the previous fit.json and fit.phi.csv untouched, no temporary file left. (This
# fit runs for more than 15 s; the check allows 20 s between the signal and the exit. The signal
# comes during the fit: the removal of a half-written output is checked in
# tests/test_interrupt_modes.cpp.)
"$bin" simulate pairwise --M 4000 --N 8 --d 5 --r 2 --seed 3 --out "$tmp/in/big.csv" >/dev/null
mkdir -p "$tmp/out/interrupted"
printf 'old fit\n' >"$tmp/out/interrupted/fit.json"
printf 'old phi\n' >"$tmp/out/interrupted/fit.phi.csv"
for sig in INT TERM; do
  "$bin" fit pairwise --data "$tmp/in/big.csv" --rank 2 --knots 16 --restarts 1000 --threads 1 \
    --out "$tmp/out/interrupted/fit.json" >"$tmp/fit-$sig.log" 2>&1 &
  fitter=$!
  sleep 1
  kill -$sig "$fitter"
  for _ in $(seq 1 200); do kill -0 "$fitter" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$fitter" 2>/dev/null
  wait "$fitter"
  rc=$?
  want=$([[ $sig == INT ]] && echo 130 || echo 143)
  check "fit pairwise stops on SIG$sig (exit $rc, want $want)" test "$rc" -eq "$want"
  check "fit pairwise says it was interrupted by SIG$sig" grep -q "interrupted (SIG$sig); unfinished outputs removed" "$tmp/fit-$sig.log"
  check "SIG$sig left the previous fit as it was" test "$(cat "$tmp/out/interrupted/fit.json" "$tmp/out/interrupted/fit.phi.csv")" == "$(printf 'old fit\nold phi')"
  check "SIG$sig left no temporary file" test "$(ls "$tmp/out/interrupted" | wc -l)" -eq 2
done

check_summary
