#!/usr/bin/env bash
# README's examples run as written. Fenced blocks tagged `sh` are run in order, in one scratch
# folder, as bash with `set -e` (each must exit 0); a block tagged `toml NAME` (or any language
# followed by a file name) is written to NAME first, when the blocks before it have run; `python`
# blocks run with the module built beside the program (PYTHONPATH=<build>/python). Untagged
# blocks (output, layouts, commands that rebuild the project) are not run. `./build/attnrate` in
# a block is the program under test.
set -u
bin="$1"
readme="$(dirname "$0")/../README.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "$0")/lib/check.sh"  # check, check_summary

mkdir -p "$tmp/build"
ln -s "$(realpath "$bin")" "$tmp/build/attnrate"
python_dir="$(dirname "$(realpath "$bin")")/python"

# Splits README into numbered blocks: $tmp/blocks/NNN.<kind>[.file] with kind sh, python or file.
mkdir "$tmp/blocks"
awk -v dir="$tmp/blocks" '
  /^```/ && !inblock {
    inblock = 1; n++; info = substr($0, 4); split(info, w, " ")
    if (w[1] == "sh") out = sprintf("%s/%03d.sh", dir, n)
    else if (w[1] == "python") out = sprintf("%s/%03d.python", dir, n)
    else if (w[2] != "") out = sprintf("%s/%03d.file.%s", dir, n, w[2])
    else out = ""
    next
  }
  /^```/ && inblock { inblock = 0; if (out != "") close(out); out = ""; next }
  inblock && out != "" { print > out }
' "$readme"

ran=0
for block in "$tmp"/blocks/*; do
  name=$(basename "$block")
  case "$name" in
    *.file.*)
      cp "$block" "$tmp/${name#*.file.}" ;;
    *.sh)
      ran=$((ran + 1))
      check "README block $name runs: $(head -c 120 "$block")" \
        bash -c "cd '$tmp' && set -e && source '$block' >'$tmp/$name.log' 2>&1 || { cat '$tmp/$name.log'; false; }" ;;
    *.python)
      ran=$((ran + 1))
      check "README block $name runs" \
        bash -c "cd '$tmp' && PYTHONPATH='$python_dir' /usr/bin/python3 '$block' >'$tmp/$name.log' 2>&1 || { cat '$tmp/$name.log'; false; }" ;;
  esac
done
check "README has runnable examples" test "$ran" -ge 4
check_summary
