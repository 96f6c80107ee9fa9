#!/usr/bin/env bash
# README's "Validated inputs" section names every option of every command and study, so that
# its ranges cover the whole command line: walks `--help` of each command (and of each of its
# subcommands) and fails on an option the section does not mention.
set -u
bin="$1"
readme="$(dirname "$0")/../README.md"
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, check_summary

section=$(awk '/^## Validated inputs/ { f = 1; next } /^## / { f = 0 } f' "$readme")
check "README has a Validated inputs section" test -n "$section"

mentioned() { grep -qE -- "[\` ]$1(\`|[ ,/(])" <<<"$section"; }

walk() {
  local help subs option
  help=$("$bin" "$@" --help) || { echo "FAIL: $* --help"; fail=$((fail + 1)); return; }
  for option in $(grep -oE '^ +(-[a-z],)?--[A-Za-z][A-Za-z0-9-]*' <<<"$help" | grep -oE -- '--[A-Za-z0-9-]+'); do
    [[ $option == --help || $option == --version ]] && continue
    check "README Validated inputs mentions $option (attnrate $*)" mentioned "$option"
  done
  subs=$(awk '/^Subcommands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }' <<<"$help")
  for s in $subs; do walk "$@" "$s"; done
}
walk
check "the walk reached the studies" test "$pass" -gt 100
check_summary
