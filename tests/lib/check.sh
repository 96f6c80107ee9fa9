# Shared by the shell tests (sourced): `check DESCRIPTION COMMAND...` counts a pass when the
# command succeeds and prints FAIL otherwise; `check_summary` prints the counts and fails if any
# check failed (use it as the script's last command).
fail=0
pass=0
check() {
  local what=$1
  shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi
}
check_summary() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}
