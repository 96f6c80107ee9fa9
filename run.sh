#!/usr/bin/env bash
# attnrate: install what is missing, build (Release), run the default verification, write
# results, figures and a report under results/.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
./scripts/build.sh
out=${ATTNRATE_RESULTS:-results}/minimax-rate
echo "attnrate: running the minimax-rate study (A known, weierstrass:1) into $out"
status=0
./build/attnrate study minimax-rate --out "$out" "$@" || status=$?
echo "attnrate: summary $out/summary.json, cells $out/cells.csv, figure $out/convergence.png"
exit $status
