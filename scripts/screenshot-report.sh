#!/usr/bin/env bash
# Renders a verify report headless in Debian's Chromium and saves a PNG screenshot, to check
# that report.html displays (verdict table, embedded figures) without a browser window.
#   scripts/screenshot-report.sh results/verify-full/report.html [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:?usage: scripts/screenshot-report.sh REPORT.html [OUT.png]}
png=${2:-${report%.html}.png}
./scripts/install-deps.sh chromium
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1200,2400 --hide-scrollbars \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$report")" >/dev/null 2>&1
test -s "$png"
echo "screenshot: $png"
