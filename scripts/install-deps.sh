#!/usr/bin/env bash
# Installs the Debian packages attnrate needs, only those missing.
# Idempotent: prints nothing when everything is present. Runs `apt-get update`
# once, and only when something has to be installed.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libarmadillo-dev libopenblas-dev
  libboost-math-dev libboost-iostreams-dev libboost-filesystem-dev
  libgnuplot-iostream-dev gnuplot-nox
  catch2 libbenchmark-dev
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev
  libsleef-dev                 # SLEEF vector math: the activations' kernels
  libopenmpi-dev openmpi-bin   # MPI scale-out of study cells (optional component, tested in CI)
  time                         # /usr/bin/time -v for the peak-RSS measurements
  pybind11-dev python3-pybind11 python3-dev        # the Python module (optional component, docs/python.md)
  python3-numpy python3-pandas python3-scipy python3-sklearn python3-pytest  # ... what it uses and its tests
)
# Extra packages a caller may ask for (e.g. chromium for the report screenshot).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "attnrate: these Debian packages are missing: ${missing[*]}" >&2
    echo "attnrate: run as root, or: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=()
fi

echo "attnrate: installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "attnrate: packages installed"
