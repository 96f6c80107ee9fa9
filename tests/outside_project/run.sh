#!/usr/bin/env bash
# install.outside-project: installs the current build into a temporary prefix, checks what was
# installed, then configures, builds and runs tests/outside_project against it with
# find_package(attnrate). Arguments: BUILD_DIR [CMAKE [CXX_COMPILER [GENERATOR]]].
set -euo pipefail
build=$1
cmake=${2:-cmake}
cxx=${3:-c++}
generator=${4:-Ninja}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in bin/attnrate lib/cmake/attnrate/attnrateConfig.cmake lib/cmake/attnrate/attnrateConfigVersion.cmake \
         lib/cmake/attnrate/attnrateTargets.cmake include/attnrate/studies/stats/rate_fit.hpp \
         include/attnrate/estimators/pairwise_lse/pairwise_lse.hpp include/attnrate/studies/commands/rate.hpp; do
  [[ -e $prefix/$f ]] || { echo "FAIL: $f not installed"; cat "$tmp/install.log"; exit 1; }
done
[[ ! -e $prefix/include/attnrate/studies/cli ]] || { echo "FAIL: the command line's headers were installed"; exit 1; }
"$prefix/bin/attnrate" --version | grep -q '^attnrate ' || { echo "FAIL: installed attnrate --version"; exit 1; }

"$cmake" -S "$here" -B "$tmp/build" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
"$cmake" --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$tmp/build/outside_fit"
