# Shared by the shell tests (sourced): `check DESCRIPTION COMMAND...` counts a pass when the
# command succeeds and prints FAIL otherwise; `expect CODE PATTERN -- COMMAND...` counts a pass
# when the command exits with CODE and its output (stdout and stderr) matches the extended regex
# PATTERN; `snapshot OUTPUT` lists everything under $tmp but OUTPUT; `check_summary` prints the
# counts and fails if any check failed (use it as the script's last command).
fail=0
pass=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi
}
expect() {
  local code=$1 pattern=$2
  shift 3
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $* -> exit $rc (want $code), output: $out (want /$pattern/)"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
}
# Paths, types, inodes, modes and contents of everything under $tmp except $1 (and what is below
# it): two snapshots equal means nothing outside the output $1 changed.
snapshot() {
  find "$tmp" -path "$1" -prune -o -printf '%p %y %i %m\n' | sort
  find "$tmp" -path "$1" -prune -o -type f -print0 | sort -z | xargs -0 -r md5sum
}
check_summary() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}
