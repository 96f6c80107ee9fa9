# Shared by the shell tests (sourced): `check DESCRIPTION COMMAND...` counts a pass when the
# command succeeds and prints FAIL otherwise; `expect CODE PATTERN -- COMMAND...` counts a pass
# when the command exits with CODE and its output (stdout and stderr) matches the extended regex
# PATTERN; `check_summary` prints the counts and fails if any check failed (use it as the
# script's last command).
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
check_summary() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}
