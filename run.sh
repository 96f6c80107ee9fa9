#!/usr/bin/env bash
# attnrate: install what is missing, build (Release), check every registered claim and write
# results, figures and a report (results/verify-<profile>/report.html).
#   ./run.sh          full profile (the sizes README quotes)
#   ./run.sh quick    quick profile (about 60 s on 2 cores)
#   ./run.sh full --only 'minimax.*'   extra arguments go to `attnrate verify`
set -euo pipefail
cd "$(dirname "$0")"
profile=full
if [[ $# -gt 0 && ( $1 == quick || $1 == full ) ]]; then
  profile=$1
  shift
fi
./scripts/install-deps.sh
./scripts/build.sh
out=${ATTNRATE_RESULTS:-results}/verify-$profile
echo "attnrate: verifying every registered claim ($profile profile) into $out"
status=0
./build/attnrate verify --profile "$profile" --out "$out" "$@" || status=$?
echo "attnrate: report $out/report.html (also report.md, summary.json; one folder per claim under $out/claims/)"
exit $status
