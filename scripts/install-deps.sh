#!/usr/bin/env bash
# Install the Debian tools memento-rtl needs: Verilator, Yosys, Icarus Verilog, z3, GTKWave,
# g++, make and zlib. Idempotent: packages already present are reported and skipped.
# Run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(verilator yosys iverilog z3 gtkwave g++ make zlib1g-dev pkg-config)

missing=()
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "install-deps: $p already installed ($(dpkg-query -W -f='${Version}' "$p"))"
  else
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: nothing to do"
  exit 0
fi

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
verilator --version
